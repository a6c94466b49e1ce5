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

    /// <summary>True when the file has no output.weight and the token embedding doubles as the output projection.</summary>
    public bool TiedEmbeddings { get; init; }

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
}
