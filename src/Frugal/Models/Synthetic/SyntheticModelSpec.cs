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

    /// <summary>general.architecture "gemma2": sandwich norms, GeGLU, soft-capping, every other layer windowed; tied output.</summary>
    Gemma2,

    /// <summary>general.architecture "gemma3": Gemma 2's block with Q/K norms, five windowed layers per global one, local RoPE base.</summary>
    Gemma3,

    /// <summary>general.architecture "phi3": fused attn_qkv and gate-up ffn_up, NeoX RoPE (partial), LongRoPE factor sets.</summary>
    Phi3,

    /// <summary>general.architecture "smollm3": llama tensors, every 4th layer without RoPE.</summary>
    SmolLM3,

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

/// <summary>YaRN scaling, written as {arch}.rope.scaling.type "yarn", .factor and .original_context_length.</summary>
public sealed record YarnRopeScaling(float Factor, int OriginalContextLength);

/// <summary>
/// Phi-3's LongRoPE, written as rope_factors_long.weight / rope_factors_short.weight and phi3.rope.scaling.attn_factor /
/// .original_context_length as llama.cpp's converter writes them (the attention factor from the context ratio).
/// </summary>
public sealed record LongRopeScaling(int OriginalContextLength);

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

    /// <summary>
    /// {arch}.attention.sliding_window: Gemma's window, written when positive (gemma2 without it: llama.cpp's 4096); phi3
    /// files carry it too (2047 for Phi-3-mini, 0 for Phi-4-mini), though llama.cpp applies no window to phi3.
    /// </summary>
    public int SlidingWindow { get; init; }

    /// <summary>Gemma 2: {arch}.attn_logit_softcapping, written when positive (Gemma 2's own: 50).</summary>
    public float AttentionSoftCap { get; init; }

    /// <summary>Gemma 2: {arch}.final_logit_softcapping, written when positive (Gemma 2's own: 30).</summary>
    public float FinalLogitSoftCap { get; init; }

    /// <summary>Linear RoPE scaling factor ({arch}.rope.scaling.type "linear"), written when positive (Gemma 3 4B and up: 8).</summary>
    public float RopeLinearFactor { get; init; }

    /// <summary>YaRN metadata (any family).</summary>
    public YarnRopeScaling? Yarn { get; init; }

    /// <summary>LongRoPE factor sets (phi3 only).</summary>
    public LongRopeScaling? LongRope { get; init; }

    /// <summary>Rotated dimensions per head ({arch}.rope.dimension_count); 0: the whole head.</summary>
    public int RopeDimensionCount { get; init; }

    /// <summary>Rotated dimensions per head, resolved.</summary>
    public int RopeDims => RopeDimensionCount > 0 ? RopeDimensionCount : HeadDim;

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
        SyntheticFamily.Gemma2 => "gemma2",
        SyntheticFamily.Gemma3 => "gemma3",
        SyntheticFamily.Phi3 => "phi3",
        SyntheticFamily.SmolLM3 => "smollm3",
        SyntheticFamily.Olmoe => "olmoe",
        _ => throw new ArgumentOutOfRangeException(nameof(Family), Family, "unknown synthetic family"),
    };

    /// <summary>A file-name-friendly description, e.g. "qwen2-d64-l2-v512-f16-tied-s7".</summary>
    public string Name =>
        $"{Architecture}-d{EmbeddingLength}-l{BlockCount}-v{VocabSize}-{GgmlTypeInfo.Name(WeightType).ToLowerInvariant()}{(TiedEmbeddings ? "-tied" : "")}{GemmaName}" +
        $"{(Experts is { } e ? $"-e{e.Count}k{e.Used}f{e.FeedForwardLength}" : "")}" +
        $"{(RopeDimensionCount > 0 ? $"-r{RopeDimensionCount}" : "")}{(Yarn is { } y ? $"-yarn{y.Factor}x{y.OriginalContextLength}" : "")}" +
        $"{(LongRope is { } lr ? $"-longrope{lr.OriginalContextLength}" : "")}-c{ContextLength}-s{Seed}";

    private string GemmaName =>
        (SlidingWindow > 0 ? $"-w{SlidingWindow}" : "") + (AttentionSoftCap > 0 ? $"-ac{AttentionSoftCap:0.##}" : "") +
        (FinalLogitSoftCap > 0 ? $"-fc{FinalLogitSoftCap:0.##}" : "") + (RopeLinearFactor > 0 ? $"-rl{RopeLinearFactor:0.##}" : "");

    /// <summary>
    /// A test-sized model of a family: width 128, 2 layers, 4 query and 2 KV heads of 32 (Qwen3: heads of 48,
    /// so heads·headDim differs from the width as in real Qwen3), vocab 512. The Llama 3 one scales RoPE from
    /// an original context of 32 so that rope_freqs changes most dimensions within a 64-token test.
    /// Phi-3 rotates 24 of its 32 head dimensions (Phi-4-mini's 0.75) with LongRoPE from an original context of 128, so a
    /// llama.cpp context of 256 takes the long factors; SmolLM3 has 4 layers, so that the last one has no RoPE.
    /// </summary>
    public static SyntheticModelSpec Tiny(SyntheticFamily family, GgmlType weightType = GgmlType.F32, bool tied = false, int seed = 1234) =>
        family is SyntheticFamily.Gemma2 or SyntheticFamily.Gemma3 ? TinyGemma(family, weightType, seed) : new()
    {
        Family = family,
        EmbeddingLength = 128,
        BlockCount = family == SyntheticFamily.SmolLM3 ? 4 : 2,
        RopeDimensionCount = family == SyntheticFamily.Phi3 ? 24 : 0,
        LongRope = family == SyntheticFamily.Phi3 ? new LongRopeScaling(128) : null,
        SlidingWindow = family == SyntheticFamily.Phi3 ? 2047 : 0,
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

    /// <summary>
    /// A test-sized Gemma (always tied: llama.cpp loads no output.weight for gemma2): width 128, 4 query and 2 KV heads
    /// of 48 (heads·headDim differs from the width, as in Gemma 3 1B's 4 × 256 over 1152), a window of 32 so that a 64-token
    /// prompt crosses it. Gemma 2: 2 layers (local, global), soft-caps of 4 and 6 that bite on random weights (Gemma 2's
    /// own 50 and 30 hardly touch scores of order 1). Gemma 3: 6 layers (five local, one global), global RoPE base 1e6
    /// with linear scaling 8 and local base 10000.
    /// </summary>
    public static SyntheticModelSpec TinyGemma(SyntheticFamily family, GgmlType weightType = GgmlType.F32, int seed = 1234) => new()
    {
        Family = family,
        EmbeddingLength = 128,
        BlockCount = family == SyntheticFamily.Gemma2 ? 2 : 6,
        HeadCount = 4,
        HeadCountKv = 2,
        HeadDim = 48,
        FeedForwardLength = 256,
        VocabSize = 512,
        ContextLength = 512,
        RopeFreqBase = family == SyntheticFamily.Gemma2 ? 10000f : 1000000f,
        RmsNormEpsilon = 1e-6f,
        TiedEmbeddings = true,
        SlidingWindow = 32,
        AttentionSoftCap = family == SyntheticFamily.Gemma2 ? 4f : 0f,
        FinalLogitSoftCap = family == SyntheticFamily.Gemma2 ? 6f : 0f,
        RopeLinearFactor = family == SyntheticFamily.Gemma3 ? 8f : 0f,
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

    /// <summary>The shapes of Gemma-3-270M (tied, heads of 256 over a width of 640, window 512, five local layers per global one).</summary>
    public static SyntheticModelSpec Gemma3_270M(GgmlType weightType = GgmlType.F16, int seed = 1234) => new()
    {
        Family = SyntheticFamily.Gemma3,
        EmbeddingLength = 640,
        BlockCount = 18,
        HeadCount = 4,
        HeadCountKv = 1,
        HeadDim = 256,
        FeedForwardLength = 2048,
        VocabSize = 262144,
        ContextLength = 32768,
        RopeFreqBase = 1000000f,
        RmsNormEpsilon = 1e-6f,
        TiedEmbeddings = true,
        SlidingWindow = 512,
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
