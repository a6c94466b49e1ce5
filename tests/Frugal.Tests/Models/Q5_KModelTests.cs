using Frugal.Gguf;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Oracle;
using LLama.Native;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>
/// A file quantized to Q5_K_M by llama.cpp's own quantizer runs end to end against llama.cpp: a 300-token prompt is
/// one batch, so on AVX-512 its Q5_K matrices go through the 16-row repacked kernel (<c>Q5_Kx16Avx512</c>).
/// </summary>
public class Q5_KModelTests(ITestOutputHelper output)
{
    /// <summary>As <see cref="QuantizedParityTests"/>'s bar, for the reason measured there (8-bit activation rounding flips).</summary>
    private const float ArgMaxMargin = 0.05f;

    [Fact]
    public void Logits_of_a_llama_cpp_q5_k_m_file_match_llama_cpp()
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, GgmlType.F32) with { EmbeddingLength = 256, HeadDim = 64, FeedForwardLength = 512 };
        string path = SyntheticFixtures.NewPath($"{spec.Name}-q5_k_m");
        LlamaCppModel.Quantize(SyntheticFixtures.PathOf(spec), path, LLamaFtype.MOSTLY_Q5_K_M);
        using (var file = GgufFile.Open(path))
        {
            int count = file.Tensors.Count(t => t.Type == GgmlType.Q5_K && t.Name.StartsWith("blk.", StringComparison.Ordinal));
            Assert.True(count >= 8, $"only {count} layer tensors are Q5_K");
        }
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 21);

        float[] expected;
        using (var oracle = LlamaCppModel.Load(path))
            expected = oracle.Logits(prompt);
        var actual = LlamaCppParityTests.Evaluate(path, prompt);

        double worst = LogitComparison.AssertClose(expected, actual, spec.VocabSize, minCosine: 0.999, margin: ArgMaxMargin);
        output.WriteLine($"{spec.Name} Q5_K_M: worst cosine {worst:F6}, max |diff| {LogitComparison.MaxAbsDiff(expected, actual):G3}");
    }
}
