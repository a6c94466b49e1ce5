using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// Gemma 2 (llama.cpp's llm_build_gemma2_iswa): embeddings scaled by √width, NeoX RoPE, sandwich norms (post_attention_norm,
/// post_ffw_norm; the file's norm weights already hold Gemma's +1), GeGLU, queries scaled by 1/√head size (1/√(width/heads)
/// for the 46-layer 27B), attention scores soft-capped (attn_logit_softcapping, 50 by default) and logits soft-capped
/// (final_logit_softcapping, 30), and every other layer (period 2: the even ones) attending to a sliding window
/// (attention.sliding_window, 4096 by default).
/// </summary>
internal static class Gemma2
{
    public static readonly TransformerParts Parts = new()
    {
        Rope = RopeStyle.NeoX,
        PostNorms = Presence.Required,
        Gate = GateActivation.GeluTanh,
        Configure = Configure,
    };

    public static ILanguageModel Load(GgufFile file, string arch, ModelLoadOptions options) => ArchitectureRegistry.Build(file, arch, Parts, options);

    private static ModelConfig Configure(GgufFile file, string arch, ModelConfig c)
    {
        int window = SlidingWindowLayers.PositiveInt(file, $"{arch}.attention.sliding_window") ?? 4096;
        return c with
        {
            SlidingWindows = SlidingWindowLayers.Read(file, arch, c.BlockCount, window, defaultPeriod: 2),
            SlidingRopeFreqBase = SlidingWindowLayers.Float(file, $"{arch}.rope.freq_base_swa"),
            AttentionScale = Gemma3.AttentionScale(c, largestBlockCount: 46),
            AttentionSoftCap = SlidingWindowLayers.Float(file, $"{arch}.attn_logit_softcapping") ?? 50f,
            FinalLogitSoftCap = SlidingWindowLayers.Float(file, $"{arch}.final_logit_softcapping") ?? 30f,
            EmbeddingScale = MathF.Sqrt(c.EmbeddingLength),
        };
    }
}
