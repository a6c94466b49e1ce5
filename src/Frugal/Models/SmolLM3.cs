using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// SmolLM3 (llama.cpp's llm_build_smollm3): a llama block whose every 4th layer (3, 7, 11, ...) applies no RoPE (NoPE).
/// llama.cpp fixes the step at 4 (hparams.n_no_rope_layer_step) and reads no key for it; so does this.
/// SmolLM / SmolLM2 files are general.architecture "llama" and load as <see cref="Llama"/>.
/// </summary>
internal static class SmolLM3
{
    public static readonly TransformerParts Parts = new()
    {
        Rope = RopeStyle.Normal,
        NoRopeLayerStep = 4,
    };

    public static ILanguageModel Load(GgufFile file, string arch, ModelLoadOptions options) => ArchitectureRegistry.Build(file, arch, Parts, options);
}
