using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>Qwen3 (dense): no biases, an RMSNorm over every query and key head before RoPE, NeoX RoPE.</summary>
internal static class Qwen3
{
    public static readonly TransformerParts Parts = new()
    {
        Rope = RopeStyle.NeoX,
        QkNorm = Presence.Required,
    };

    public static ILanguageModel Load(GgufFile file, string arch, ModelLoadOptions options) => ArchitectureRegistry.Build(file, arch, Parts, options);
}
