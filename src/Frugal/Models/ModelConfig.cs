using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>Hyper-parameters read from GGUF metadata ({arch}.* keys).</summary>
public sealed record ModelConfig
{
    public required string Architecture { get; init; }
    public required int VocabSize { get; init; }
    public required int ContextLength { get; init; }
    public required int EmbeddingLength { get; init; }
    public required int BlockCount { get; init; }
    public required int HeadCount { get; init; }
    public required int HeadCountKv { get; init; }
    public required int HeadDim { get; init; }
    public required int FeedForwardLength { get; init; }
    public required float RmsNormEpsilon { get; init; }
    public required float RopeFreqBase { get; init; }

    /// <summary>How RoPE pairs dimensions: normal for llama, NeoX for qwen2/qwen3.</summary>
    public RopeStyle RopeStyle { get; init; } = RopeStyle.Normal;

    /// <summary>Leading dimensions of each head that RoPE rotates ({arch}.rope.dimension_count); 0 means all of them.</summary>
    public int RopeDimensionCount { get; init; }

    /// <summary>Linear position scaling (1 / {arch}.rope.scaling.factor); 1 when unscaled.</summary>
    public float RopeFreqScale { get; init; } = 1.0f;

    /// <summary>YaRN's blend of the RoPE angles ({arch}.rope.scaling.type yarn); null when the file does not ask for it.</summary>
    public RopeYarn? RopeYarn { get; init; }

    /// <summary>What cos and sin are multiplied by: {arch}.rope.scaling.attn_factor, times YaRN's 1 + 0.1·ln(factor).</summary>
    public float RopeMagnitude { get; init; } = 1.0f;

    /// <summary>Context the RoPE frequencies were trained on before scaling ({arch}.rope.scaling.original_context_length, else context_length).</summary>
    public int RopeOriginalContextLength { get; init; }

    /// <summary>True when the file has no output.weight and the token embedding doubles as the output projection.</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>
    /// Per layer, how many of the latest positions a query attends to, itself included (llama.cpp's n_swa with
    /// LLAMA_SWA_TYPE_STANDARD: a key at distance ≥ window is masked); 0 for a layer that sees every position. Empty
    /// when no layer has a window. Any family may set it (Gemma 2/3's local layers, Phi-3's, Mistral's).
    /// </summary>
    public IReadOnlyList<int> SlidingWindows { get; init; } = [];

    /// <summary>RoPE frequency base of the sliding-window layers (llama.cpp's rope_freq_base_train_swa); null: <see cref="RopeFreqBase"/>.</summary>
    public float? SlidingRopeFreqBase { get; init; }

    /// <summary>RoPE linear scale of the sliding-window layers (rope_freq_scale_train_swa); null: <see cref="RopeFreqScale"/>.</summary>
    public float? SlidingRopeFreqScale { get; init; }

    /// <summary>Factor of q·k before the softmax (llama.cpp's f_attention_scale); 0 means 1/√HeadDim.</summary>
    public float AttentionScale { get; init; }

    /// <summary>Attention scores become cap · tanh(score / cap) when positive (Gemma 2's attn_logit_softcapping).</summary>
    public float AttentionSoftCap { get; init; }

    /// <summary>Logits become cap · tanh(logit / cap) when positive (Gemma 2's final_logit_softcapping).</summary>
    public float FinalLogitSoftCap { get; init; }

    /// <summary>Factor applied to token embeddings as they enter the first layer (Gemma: √EmbeddingLength); 1 elsewhere.</summary>
    public float EmbeddingScale { get; init; } = 1.0f;

    /// <summary>The sliding window of <paramref name="layer"/> (0: the layer sees every position).</summary>
    public int SlidingWindowOf(int layer) => layer < SlidingWindows.Count ? SlidingWindows[layer] : 0;

    /// <summary>The RoPE frequency base of <paramref name="layer"/>: the sliding-window one for a windowed layer.</summary>
    public float RopeFreqBaseOf(int layer) => SlidingWindowOf(layer) > 0 ? SlidingRopeFreqBase ?? RopeFreqBase : RopeFreqBase;

    /// <summary>The RoPE linear scale of <paramref name="layer"/>: the sliding-window one for a windowed layer.</summary>
    public float RopeFreqScaleOf(int layer) => SlidingWindowOf(layer) > 0 ? SlidingRopeFreqScale ?? RopeFreqScale : RopeFreqScale;

    /// <summary>True when some layer rotates with another base or scale than the global one (Gemma 3's local layers).</summary>
    public bool HasLayerRope => Enumerable.Range(0, BlockCount).Any(l => RopeFreqBaseOf(l) != RopeFreqBase || RopeFreqScaleOf(l) != RopeFreqScale);
    /// <summary>Experts per mixture-of-experts layer ({arch}.expert_count); 0 for a dense feed-forward.</summary>
    public int ExpertCount { get; init; }

    /// <summary>Experts each token is routed to ({arch}.expert_used_count, the top-k).</summary>
    public int ExpertUsedCount { get; init; }

    /// <summary>Hidden width of one expert ({arch}.expert_feed_forward_length, else feed_forward_length).</summary>
    public int ExpertFeedForwardLength { get; init; }

    /// <summary>Width of the keys (and values) of all KV heads of one position: HeadCountKv · HeadDim.</summary>
    public int KvDim => HeadCountKv * HeadDim;

    /// <summary>Width of the queries of all heads of one position: HeadCount · HeadDim.</summary>
    public int QueryDim => HeadCount * HeadDim;

    /// <summary>Rotated dimensions per head, resolved (<see cref="RopeDimensionCount"/> or <see cref="HeadDim"/>).</summary>
    public int RopeDims => RopeDimensionCount > 0 ? RopeDimensionCount : HeadDim;

    /// <summary>This model's rotation for <see cref="Numerics.Ops.Rope"/>, with the frequency factors the weights hold (rope_freqs, LongRoPE's set).</summary>
    public RopeSpec RopeWith(float[]? freqFactors) =>
        new(RopeStyle, RopeDims, RopeFreqBase, RopeFreqScale, freqFactors, RopeYarn, RopeMagnitude);
}
