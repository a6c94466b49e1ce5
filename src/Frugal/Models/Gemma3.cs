using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// Gemma 3 text models, 270M and 1B included (converters write them all as "gemma3"; llama.cpp's llm_build_gemma3):
/// Gemma 2's block (√width embedding scale, sandwich norms, GeGLU, NeoX RoPE) with an RMSNorm over every query and key
/// head before RoPE, no attention soft-capping, and five local layers for each global one (period 6) when the file
/// names a window (attention.sliding_window). Local layers rotate with base 10000 (rope.freq_base_swa when present)
/// and no scaling; global layers with rope.freq_base and the file's linear scaling (4B and larger). A file without a
/// window attends globally everywhere and soft-caps its logits when it names final_logit_softcapping.
/// </summary>
internal static class Gemma3
{
    public static readonly TransformerParts Parts = new()
    {
        Rope = RopeStyle.NeoX,
        QkNorm = Presence.Required,
        PostNorms = Presence.Required,
        Gate = GateActivation.GeluTanh,
        Configure = Configure,
    };

    public static ILanguageModel Load(GgufFile file, string arch, ModelLoadOptions options) => ArchitectureRegistry.Build(file, arch, Parts, options);

    private static ModelConfig Configure(GgufFile file, string arch, ModelConfig c)
    {
        c = c with
        {
            AttentionScale = AttentionScale(c, largestBlockCount: 62),
            EmbeddingScale = MathF.Sqrt(c.EmbeddingLength),
        };
        int window = SlidingWindowLayers.PositiveInt(file, $"{arch}.attention.sliding_window") ?? 0;
        if (window == 0)
            return c with { FinalLogitSoftCap = SlidingWindowLayers.Float(file, $"{arch}.final_logit_softcapping") ?? 0f };
        return c with
        {
            SlidingWindows = SlidingWindowLayers.Read(file, arch, c.BlockCount, window, defaultPeriod: 6),
            SlidingRopeFreqBase = SlidingWindowLayers.Float(file, $"{arch}.rope.freq_base_swa") ?? 10000f,
            SlidingRopeFreqScale = 1.0f,
        };
    }

    /// <summary>
    /// Gemma's query scale as llama.cpp derives it (gemma_pytorch's query_pre_attn_scalar): 1/√head size, except the
    /// 27B model (told apart by its layer count) whose queries are scaled by 1/√(width / heads).
    /// </summary>
    internal static float AttentionScale(ModelConfig c, int largestBlockCount) =>
        c.BlockCount == largestBlockCount
            ? 1.0f / MathF.Sqrt(c.EmbeddingLength / c.HeadCount)
            : 1.0f / MathF.Sqrt(c.HeadDim);
}
