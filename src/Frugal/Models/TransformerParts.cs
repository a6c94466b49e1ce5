using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>Whether an architecture's tensor is never there, may be there, or must be there.</summary>
internal enum Presence
{
    Absent,
    Optional,
    Required,
}

/// <summary>The span an attn_q_norm / attn_k_norm RMSNorm covers.</summary>
internal enum QkNormSpan
{
    Head,
    Projection,
}

/// <summary>
/// What distinguishes one llama-family decoder from another: the parts llama.cpp's graph builders
/// (llm_build_llama, llm_build_qwen2, llm_build_qwen3) switch on. Everything else is shared.
/// </summary>
internal sealed record TransformerParts
{
    public required RopeStyle Rope { get; init; }

    /// <summary>attn_q.bias, attn_k.bias, attn_v.bias.</summary>
    public Presence QkvBias { get; init; } = Presence.Absent;

    /// <summary>attn_output.bias.</summary>
    public Presence OutputBias { get; init; } = Presence.Absent;

    /// <summary>attn_q_norm / attn_k_norm: RMSNorm of each query and key head before RoPE.</summary>
    public Presence QkNorm { get; init; } = Presence.Absent;

    /// <summary>
    /// What attn_q_norm / attn_k_norm normalize: each head (Qwen3) or the whole projection at once (OLMoE, whose norm
    /// weights are as wide as the query and key projections).
    /// </summary>
    public QkNormSpan QkNormSpan { get; init; } = QkNormSpan.Head;

    /// <summary>
    /// A mixture-of-experts feed-forward (ffn_gate_inp and the ffn_*_exps tensors) in place of the dense one: Optional
    /// (llama: Mixtral when {arch}.expert_count > 0), Required (qwen3moe, olmoe), Absent (dense families).
    /// </summary>
    public Presence Experts { get; init; } = Presence.Absent;

    /// <summary>Whether the top-k routing weights are divided by their sum (llama.cpp's norm_w in build_moe_ffn).</summary>
    public bool NormalizeExpertWeights { get; init; }

    /// <summary>rope_freqs.weight: per-dimension frequency divisors (Llama 3.1 long-context scaling).</summary>
    public Presence RopeFreqs { get; init; } = Presence.Absent;
}
