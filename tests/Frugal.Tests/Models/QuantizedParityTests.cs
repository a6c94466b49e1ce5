using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Oracle;
using LLama.Native;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>
/// The forward pass over files quantized by llama.cpp's own quantizer, against llama.cpp on the same files.
/// Widths are multiples of 256 so the k-quant mixes (Q4_K_M) really use k-quant blocks. The bar is lower than for
/// F32/F16 because llama.cpp also quantizes activations (to Q8_0 / Q8_K) inside its dot products.
/// </summary>
public class QuantizedParityTests(ITestOutputHelper output)
{
    public static TheoryData<SyntheticFamily, LLamaFtype> Cases()
    {
        var data = new TheoryData<SyntheticFamily, LLamaFtype>();
        foreach (var family in Enum.GetValues<SyntheticFamily>())
            foreach (var type in new[] { LLamaFtype.MOSTLY_Q8_0, LLamaFtype.MOSTLY_Q4_0, LLamaFtype.MOSTLY_Q4_K_M })
                data.Add(family, type);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_of_a_llama_cpp_quantized_file_match_llama_cpp(SyntheticFamily family, LLamaFtype type)
    {
        var spec = SyntheticModelSpec.Tiny(family, GgmlType.F32) with { EmbeddingLength = 256, HeadDim = 64, FeedForwardLength = 512 };
        string path = SyntheticFixtures.NewPath($"{spec.Name}-{type}");
        LlamaCppModel.Quantize(SyntheticFixtures.PathOf(spec), path, type);
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 21);

        float[] expected;
        using (var oracle = LlamaCppModel.Load(path))
            expected = oracle.Logits(prompt);
        var actual = LlamaCppParityTests.Evaluate(path, prompt);

        double worst = LogitComparison.AssertClose(expected, actual, spec.VocabSize, minCosine: 0.999, margin: float.PositiveInfinity);
        output.WriteLine($"{spec.Name} {type}: worst cosine {worst:F6}, max |diff| {LogitComparison.MaxAbsDiff(expected, actual):G3}");
    }

    public static TheoryData<SyntheticFamily, GgmlType> OwnQuantizerCases()
    {
        var data = new TheoryData<SyntheticFamily, GgmlType>();
        foreach (var family in Enum.GetValues<SyntheticFamily>())
            foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K })
                data.Add(family, type);
        return data;
    }

    /// <summary>Files whose every matrix our own quantizer wrote, run by both engines.</summary>
    [Theory]
    [MemberData(nameof(OwnQuantizerCases))]
    public void Logits_of_a_file_quantized_by_frugal_match_llama_cpp(SyntheticFamily family, GgmlType type)
    {
        var spec = SyntheticModelSpec.Tiny(family, type) with { EmbeddingLength = 256, HeadDim = 64, FeedForwardLength = 512 };
        string path = SyntheticFixtures.PathOf(spec);
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 22);

        float[] expected;
        using (var oracle = LlamaCppModel.Load(path))
            expected = oracle.Logits(prompt);
        var actual = LlamaCppParityTests.Evaluate(path, prompt);

        double worst = LogitComparison.AssertClose(expected, actual, spec.VocabSize, minCosine: 0.999, margin: float.PositiveInfinity);
        output.WriteLine($"{spec.Name}: worst cosine {worst:F6}, max |diff| {LogitComparison.MaxAbsDiff(expected, actual):G3}");
    }
}
