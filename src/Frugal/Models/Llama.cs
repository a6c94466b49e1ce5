using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// Llama 2 / 3 / 3.1 / 3.2 and the families llama.cpp stores as "llama" (Mistral 7B, SmolLM, TinyLlama):
/// normal (adjacent-pair) RoPE, optional attention biases, optional rope_freqs for Llama 3.1 scaling.
/// </summary>
internal static class Llama
{
    public static readonly TransformerParts Parts = new()
    {
        Rope = RopeStyle.Normal,
        QkvBias = Presence.Optional,
        OutputBias = Presence.Optional,
        RopeFreqs = Presence.Optional,
        // Mixtral: llama with {arch}.expert_count > 0, softmax routing, top-k weights renormalized.
        Experts = Presence.Optional,
        NormalizeExpertWeights = true,
    };

    public static ILanguageModel Load(GgufFile file, string arch, ModelLoadOptions options) => ArchitectureRegistry.Build(file, arch, Parts, options);
}
