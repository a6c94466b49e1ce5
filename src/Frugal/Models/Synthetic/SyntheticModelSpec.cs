using Frugal.Numerics;

namespace Frugal.Models.Synthetic;

/// <summary>The model families whose tensor names, metadata and shapes a synthetic file copies.</summary>
public enum SyntheticFamily
{
    /// <summary>general.architecture "llama": GQA, normal RoPE, Llama 3.1-style rope_freqs when scaled.</summary>
    Llama3,

    /// <summary>general.architecture "qwen2": biases on Q, K and V, NeoX RoPE.</summary>
    Qwen2,

    /// <summary>general.architecture "qwen3": per-head Q/K RMSNorm, NeoX RoPE, head size independent of width.</summary>
    Qwen3,

    /// <summary>general.architecture "olmoe": Q/K RMSNorm over the whole projections, NeoX RoPE, experts (needs <see cref="SyntheticModelSpec.Experts"/>).</summary>
    Olmoe,
}

/// <summary>
/// A mixture-of-experts feed-forward in every layer: <paramref name="Count"/> experts, <paramref name="Used"/> per token,
/// each of hidden width <paramref name="FeedForwardLength"/>. On Llama3 it makes a Mixtral-style "llama" file, on Qwen3 a
/// "qwen3moe" file (whose feed_forward_length stays the spec's dense width, as Qwen3-MoE conversions write it).
/// </summary>
public sealed record SyntheticExperts(int Count, int Used, int FeedForwardLength);

/// <summary>Llama 3.1's long-context RoPE scaling, written into the file as the rope_freqs.weight tensor.</summary>
public sealed record Llama3RopeScaling(float Factor, float LowFreqFactor, float HighFreqFactor, int OriginalContextLength);

/// <summary>What a random-weight GGUF model looks like: family, shapes, weight type and seed.</summary>
public sealed record SyntheticModelSpec
{
    public required SyntheticFamily Family { get; init; }
    public required int EmbeddingLength { get; init; }
    public required int BlockCount { get; init; }
    public required int HeadCount { get; init; }
    public required int HeadCountKv { get; init; }
    public required int HeadDim { get; init; }
    public required int FeedForwardLength { get; init; }

    /// <summary>Token count; at least 259 (three specials and 256 byte tokens for the SentencePiece vocabulary).</summary>
    public required int VocabSize { get; init; }

    public int ContextLength { get; init; } = 2048;
    public float RopeFreqBase { get; init; } = 10000f;
    public float RmsNormEpsilon { get; init; } = 1e-5f;

    /// <summary>No output.weight: the token embedding is the output projection too.</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>Writes rope_freqs.weight (llama family only).</summary>
    public Llama3RopeScaling? RopeScaling { get; init; }

    /// <summary>Type of the 2-D weights (token_embd, projections, output); norms, biases and rope_freqs stay F32.</summary>
    public GgmlType WeightType { get; init; } = GgmlType.F32;

    public int Seed { get; init; } = 1234;

    /// <summary>Mixture-of-experts feed-forwards instead of dense ones (null: dense).</summary>
    public SyntheticExperts? Experts { get; init; }

    public string Architecture => Family switch
    {
        SyntheticFamily.Llama3 => "llama",
        SyntheticFamily.Qwen2 => "qwen2",
        SyntheticFamily.Qwen3 => Experts is null ? "qwen3" : "qwen3moe",
        SyntheticFamily.Olmoe => "olmoe",
        _ => throw new ArgumentOutOfRangeException(nameof(Family), Family, "unknown synthetic family"),
    };

    /// <summary>A file-name-friendly description, e.g. "qwen2-d64-l2-v512-f16-tied-s7".</summary>
    public string Name =>
        $"{Architecture}-d{EmbeddingLength}-l{BlockCount}-v{VocabSize}-{GgmlTypeInfo.Name(WeightType).ToLowerInvariant()}{(TiedEmbeddings ? "-tied" : "")}{(Experts is { } e ? $"-e{e.Count}k{e.Used}f{e.FeedForwardLength}" : "")}-s{Seed}";

    /// <summary>
    /// A test-sized model of a family: width 128, 2 layers, 4 query and 2 KV heads of 32 (Qwen3: heads of 48,
    /// so heads·headDim differs from the width as in real Qwen3), vocab 512. The Llama 3 one scales RoPE from
    /// an original context of 32 so that rope_freqs changes most dimensions within a 64-token test.
    /// </summary>
    public static SyntheticModelSpec Tiny(SyntheticFamily family, GgmlType weightType = GgmlType.F32, bool tied = false, int seed = 1234) => new()
    {
        Family = family,
        EmbeddingLength = 128,
        BlockCount = 2,
        HeadCount = 4,
        HeadCountKv = 2,
        HeadDim = family == SyntheticFamily.Qwen3 ? 48 : 32,
        FeedForwardLength = 256,
        VocabSize = 512,
        ContextLength = 512,
        RopeFreqBase = family == SyntheticFamily.Llama3 ? 500000f : 1000000f,
        RmsNormEpsilon = family == SyntheticFamily.Llama3 ? 1e-5f : 1e-6f,
        TiedEmbeddings = tied,
        RopeScaling = family == SyntheticFamily.Llama3 ? new Llama3RopeScaling(8f, 1f, 4f, 32) : null,
        WeightType = weightType,
        Seed = seed,
    };

    /// <summary>The shapes of Llama-3.2-1B (tied embeddings, rope_freqs with factor 32).</summary>
    public static SyntheticModelSpec Llama32_1B(GgmlType weightType = GgmlType.F16, int seed = 1234) => new()
    {
        Family = SyntheticFamily.Llama3,
        EmbeddingLength = 2048,
        BlockCount = 16,
        HeadCount = 32,
        HeadCountKv = 8,
        HeadDim = 64,
        FeedForwardLength = 8192,
        VocabSize = 128256,
        ContextLength = 131072,
        RopeFreqBase = 500000f,
        RmsNormEpsilon = 1e-5f,
        TiedEmbeddings = true,
        RopeScaling = new Llama3RopeScaling(32f, 1f, 4f, 8192),
        WeightType = weightType,
        Seed = seed,
    };

    /// <summary>The shapes of Qwen2.5-0.5B (tied embeddings, Q/K/V biases).</summary>
    public static SyntheticModelSpec Qwen25_05B(GgmlType weightType = GgmlType.F16, int seed = 1234) => new()
    {
        Family = SyntheticFamily.Qwen2,
        EmbeddingLength = 896,
        BlockCount = 24,
        HeadCount = 14,
        HeadCountKv = 2,
        HeadDim = 64,
        FeedForwardLength = 4864,
        VocabSize = 151936,
        ContextLength = 32768,
        RopeFreqBase = 1000000f,
        RmsNormEpsilon = 1e-6f,
        TiedEmbeddings = true,
        WeightType = weightType,
        Seed = seed,
    };

    /// <summary>The shapes of Qwen3-0.6B (tied embeddings, Q/K norm, heads of 128 over a width of 1024).</summary>
    public static SyntheticModelSpec Qwen3_06B(GgmlType weightType = GgmlType.F16, int seed = 1234) => new()
    {
        Family = SyntheticFamily.Qwen3,
        EmbeddingLength = 1024,
        BlockCount = 28,
        HeadCount = 16,
        HeadCountKv = 8,
        HeadDim = 128,
        FeedForwardLength = 3072,
        VocabSize = 151936,
        ContextLength = 40960,
        RopeFreqBase = 1000000f,
        RmsNormEpsilon = 1e-6f,
        TiedEmbeddings = true,
        WeightType = weightType,
        Seed = seed,
    };
}
