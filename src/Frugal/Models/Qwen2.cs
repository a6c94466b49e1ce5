using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>Qwen2 / Qwen2.5: biases on the query, key and value projections, NeoX RoPE.</summary>
internal static class Qwen2
{
    public static readonly TransformerParts Parts = new()
    {
        Rope = RopeStyle.NeoX,
        QkvBias = Presence.Required,
    };

    public static ILanguageModel Load(GgufFile file, string arch, ModelLoadOptions options) => ArchitectureRegistry.Build(file, arch, Parts, options);
}
