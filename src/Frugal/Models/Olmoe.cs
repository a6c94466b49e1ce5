using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// OLMoE (allenai/OLMoE-1B-7B): an RMSNorm over the whole query and key projections (not per head) before NeoX RoPE,
/// and a mixture-of-experts feed-forward whose top-k softmax probabilities are used as they are (norm_topk_prob false).
/// </summary>
internal static class Olmoe
{
    public static readonly TransformerParts Parts = new()
    {
        Rope = RopeStyle.NeoX,
        QkNorm = Presence.Required,
        QkNormSpan = QkNormSpan.Projection,
        Experts = Presence.Required,
        NormalizeExpertWeights = false,
    };

    public static ILanguageModel Load(GgufFile file, string arch, ModelLoadOptions options) => ArchitectureRegistry.Build(file, arch, Parts, options);
}
