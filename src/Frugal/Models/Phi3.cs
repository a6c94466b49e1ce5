using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// Phi-3 / Phi-3.5-mini / Phi-4-mini (llama.cpp's llm_build_phi3): Q, K and V in one attn_qkv tensor, gate and up in
/// one ffn_up tensor ([gate | up] rows, SwiGLU), NeoX RoPE over {arch}.rope.dimension_count dimensions (Phi-4-mini
/// rotates 96 of 128), LongRoPE factor sets chosen by context, tied or separate output. The file's sliding_window is
/// not applied: llama.cpp disables Phi SWA ("Phi SWA is currently disabled"), and parity follows it.
/// </summary>
internal static class Phi3
{
    public static readonly TransformerParts Parts = new()
    {
        Rope = RopeStyle.NeoX,
        FusedQkv = true,
        FusedGateUp = true,
        LongRopeFactors = Presence.Optional,
    };

    public static ILanguageModel Load(GgufFile file, string arch, ModelLoadOptions options) => ArchitectureRegistry.Build(file, arch, Parts, options);
}
