using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// Qwen3-MoE (Qwen3-30B-A3B, 235B-A22B): Qwen3's attention (per-head Q/K norm, NeoX RoPE) with every feed-forward a
/// mixture of experts, softmax routing and the top-k weights renormalized (norm_topk_prob; llama.cpp always
/// normalizes for this architecture). No shared expert: llama.cpp's qwen3moe loads none (qwen2moe has one).
/// </summary>
internal static class Qwen3Moe
{
    public static readonly TransformerParts Parts = new()
    {
        Rope = RopeStyle.NeoX,
        QkNorm = Presence.Required,
        Experts = Presence.Required,
        NormalizeExpertWeights = true,
    };

    public static ILanguageModel Load(GgufFile file, string arch, ModelLoadOptions options) => ArchitectureRegistry.Build(file, arch, Parts, options);
}
