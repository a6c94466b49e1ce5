namespace Frugal.Models.Synthetic;

/// <summary>
/// The mixture-of-experts tensors of a synthetic layer, named and shaped as llama.cpp loads them (llama/Mixtral,
/// qwen3moe, olmoe): ffn_gate_inp [dim, experts] in F32, and the 3-D ffn_gate_exps / ffn_up_exps [dim, expertFf, experts]
/// and ffn_down_exps [expertFf, dim, experts] in the spec's weight type.
/// </summary>
internal static class SyntheticExpertTensors
{
    /// <summary>
    /// Router std 3/sqrt(width): logits of std ~3 spread the softmax, so the k-th and (k+1)-th experts are rarely within
    /// rounding of each other (a routing tie would let two engines pick different experts), while every expert is
    /// still some tokens' favourite.
    /// </summary>
    public static void Add(Frugal.Gguf.GgufWriter w, string prefix, int dim, SyntheticExperts e,
        Action<string, long[], float> tensor, Action<string, int, int, float> router)
    {
        int ff = e.FeedForwardLength;
        router(prefix + "ffn_gate_inp.weight", e.Count, dim, 3f / MathF.Sqrt(dim));
        tensor(prefix + "ffn_gate_exps.weight", [dim, ff, e.Count], 1f / MathF.Sqrt(dim));
        tensor(prefix + "ffn_down_exps.weight", [ff, dim, e.Count], 1f / MathF.Sqrt(ff));
        tensor(prefix + "ffn_up_exps.weight", [dim, ff, e.Count], 1f / MathF.Sqrt(dim));
    }

    public static void Validate(SyntheticModelSpec s)
    {
        if (s.Family == SyntheticFamily.Olmoe && s.Experts is null)
            throw new ArgumentException($"synthetic model '{s.Name}': olmoe is a mixture-of-experts family; set Experts");
        if (s.Experts is not { } e) return;
        if (s.Family == SyntheticFamily.Qwen2)
            throw new ArgumentException($"synthetic model '{s.Name}': qwen2 has no mixture-of-experts form here");
        if (e.Count <= 0 || e.Used <= 0 || e.Used > e.Count || e.FeedForwardLength <= 0)
            throw new ArgumentException($"synthetic model '{s.Name}': experts need 0 < used <= count and a positive width");
        // llama.cpp sizes llama's and olmoe's experts by feed_forward_length; only qwen3moe has its own key.
        if (s.Family != SyntheticFamily.Qwen3 && e.FeedForwardLength != s.FeedForwardLength)
            throw new ArgumentException($"synthetic model '{s.Name}': {s.Architecture} experts are feed_forward_length wide ({s.FeedForwardLength}), not {e.FeedForwardLength}");
        // olmoe's attn_k_norm is as wide as the model (llama.cpp loads it as [n_embd]).
        if (s.Family == SyntheticFamily.Olmoe && s.HeadCountKv != s.HeadCount)
            throw new ArgumentException($"synthetic model '{s.Name}': olmoe needs head_count_kv = head_count");
    }
}
