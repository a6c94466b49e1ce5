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

    /// <summary>post_attention_norm / post_ffw_norm: RMSNorm of each block's output before it joins the residual (Gemma 2/3's sandwich).</summary>
    public Presence PostNorms { get; init; } = Presence.Absent;

    /// <summary>The gate's activation in the gated feed-forward: SiLU (SwiGLU) or GELU-tanh (GeGLU, Gemma).</summary>
    public GateActivation Gate { get; init; } = GateActivation.Silu;

    /// <summary>What a family reads beyond the shared keys (sliding windows, soft-caps, scales), applied to the shared config.</summary>
    public Func<Gguf.GgufFile, string, ModelConfig, ModelConfig>? Configure { get; init; }

    /// <summary>rope_factors_long.weight / rope_factors_short.weight: LongRoPE's two factor sets (Phi-3), one chosen by context.</summary>
    public Presence LongRopeFactors { get; init; } = Presence.Absent;

    /// <summary>attn_qkv.weight: Q, K and V as one tensor of rows [q | k | v] (Phi-3), instead of attn_q/attn_k/attn_v.</summary>
    public bool FusedQkv { get; init; }

    /// <summary>ffn_up.weight holds rows [gate | up] (Phi-3's gate_up_proj), and there is no ffn_gate.weight.</summary>
    public bool FusedGateUp { get; init; }

    /// <summary>Every n-th layer (the n-th, 2n-th, ...) takes no RoPE (SmolLM3's NoPE layers); 0: all layers rotate.</summary>
    public int NoRopeLayerStep { get; init; }

    /// <summary>Whether layer <paramref name="layer"/> (from 0) rotates its queries and keys.</summary>
    public bool RotatesLayer(int layer) => NoRopeLayerStep <= 0 || (layer + 1) % NoRopeLayerStep != 0;
}

/// <summary>The activation of the gate branch of a gated feed-forward (Shazeer, "GLU Variants Improve Transformer").</summary>
internal enum GateActivation
{
    /// <summary>SwiGLU: SiLU(gate) ⊙ up.</summary>
    Silu,

    /// <summary>GeGLU: GELU-tanh(gate) ⊙ up (llama.cpp's LLM_FFN_GELU with LLM_FFN_PAR).</summary>
    GeluTanh,
}
