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

    /// <summary>
    /// {arch}.attention.sliding_window as the file states it (0: none). Whether any layer attends within it is the
    /// family's call: phi3 files carry one that llama.cpp ignores (it disables Phi SWA), and so does this engine.
    /// </summary>
    public int SlidingWindow { get; init; }

    /// <summary>True when the file has no output.weight and the token embedding doubles as the output projection.</summary>
    public bool TiedEmbeddings { get; init; }

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
