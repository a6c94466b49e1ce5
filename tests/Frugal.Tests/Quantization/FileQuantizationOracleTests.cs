using Frugal.Gguf;
using Frugal.Gguf.Quantization;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Models;
using Frugal.Tests.Oracle;
using Xunit.Abstractions;

namespace Frugal.Tests.Quantization;

/// <summary>
/// <c>frugal quantize</c> against llama.cpp's own quantizer (llama_model_quantize, called as llama-quantize calls it)
/// on the same input file: the same tensor types, the same bytes in every tensor, the same metadata, the same file.
/// </summary>
public class FileQuantizationOracleTests(ITestOutputHelper output)
{
    /// <summary>
    /// A llama-shaped model whose rows are all multiples of 256 (so k-quants need no fallback) and with 8 layers, so
    /// use_more_bits splits them (layers 0, 3, 6, 7 get Q6_K in Q4_K_M).
    /// </summary>
    internal static SyntheticModelSpec Llama8(GgmlType weights = GgmlType.F16, bool tied = false) =>
        SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, weights, tied, seed: 16) with
        {
            EmbeddingLength = 256, HeadDim = 64, FeedForwardLength = 512, BlockCount = 8,
        };

    public static TheoryData<string, bool> FileTypes()
    {
        var data = new TheoryData<string, bool>();
        foreach (var t in QuantizationFileType.All)
            data.Add(t.Name, false);
        foreach (var pure in new[] { "Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "Q3_K", "Q2_K" })
            data.Add(pure, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(FileTypes))]
    public void Quantized_file_equals_llama_quantize_output(string type, bool pure)
    {
        var fileType = QuantizationFileType.Parse(type);
        AssertSameAsLlamaCpp(SyntheticFixtures.PathOf(Llama8()), fileType, pure);
    }

    public static TheoryData<GgmlType, bool, string> Variants() => new()
    {
        { GgmlType.F32, false, "Q4_K_M" },  // F32 input
        { GgmlType.BF16, false, "Q8_0" },   // BF16 input
        { GgmlType.F16, true, "Q4_K_M" },   // tied embeddings: token_embd takes the output's Q6_K
        { GgmlType.F16, true, "Q4_0" },
        { GgmlType.F16, true, "Q8_0" },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Input_types_and_tied_embeddings_match_llama_quantize(GgmlType weights, bool tied, string type) =>
        AssertSameAsLlamaCpp(SyntheticFixtures.PathOf(Llama8(weights, tied)), QuantizationFileType.Parse(type), pure: false);

    /// <summary>Rows of 128: every k-quant tensor falls back to a 32-element type, as llama.cpp's tensor_type_fallback picks.</summary>
    [Theory]
    [InlineData("Q4_K_M")]
    [InlineData("Q5_K_M")]
    [InlineData("Q6_K")]
    [InlineData("Q2_K")]
    [InlineData("Q3_K_M")]
    public void Fallback_types_for_rows_that_are_not_whole_super_blocks_match_llama_quantize(string type) =>
        AssertSameAsLlamaCpp(SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(SyntheticFamily.Qwen2, GgmlType.F16, seed: 17)),
            QuantizationFileType.Parse(type), pure: false);

    /// <summary>
    /// The file loads in llama.cpp and in Frugal and both compute the same logits from it (within the margin
    /// <see cref="QuantizedParityTests"/> explains: 8-bit activation rounding, not the file).
    /// </summary>
    [Theory]
    [InlineData("Q4_K_M")]
    [InlineData("Q8_0")]
    public void A_frugal_quantized_file_runs_in_llama_cpp_and_in_frugal_alike(string type)
    {
        var spec = Llama8();
        string path = SyntheticFixtures.NewPath($"run-{type}");
        GgufQuantizer.Run(SyntheticFixtures.PathOf(spec), path, new QuantizeOptions { FileType = QuantizationFileType.Parse(type) });
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 23, length: 32);

        float[] expected;
        int[] continuation;
        using (var oracle = LlamaCppModel.Load(path))
        {
            expected = oracle.Logits(prompt);
            continuation = oracle.Greedy(prompt, 8);
        }
        Assert.Equal(8, continuation.Length);
        Assert.All(continuation, t => Assert.InRange(t, 0, spec.VocabSize - 1));
        var actual = LlamaCppParityTests.Evaluate(path, prompt);
        double worst = LogitComparison.AssertClose(expected, actual, spec.VocabSize, minCosine: 0.999, margin: 0.05f);
        output.WriteLine($"{type}: llama.cpp greedy {string.Join(' ', continuation)}; worst cosine vs Frugal {worst:F6}");
    }

    private void AssertSameAsLlamaCpp(string source, QuantizationFileType fileType, bool pure)
    {
        string expectedPath = SyntheticFixtures.NewPath($"llama-{fileType.Name}{(pure ? "-pure" : "")}");
        string actualPath = SyntheticFixtures.NewPath($"frugal-{fileType.Name}{(pure ? "-pure" : "")}");
        LlamaQuantize.Run(source, expectedPath, fileType.Id, pure);
        var result = GgufQuantizer.Run(source, actualPath, new QuantizeOptions { FileType = fileType, Pure = pure, Threads = 3 });

        using (var expected = GgufFile.Open(expectedPath))
        using (var actual = GgufFile.Open(actualPath))
        {
            Assert.Equal(expected.Tensors.Select(t => $"{t.Name} {GgmlTypeInfo.Name(t.Type)} {t.ShapeText}"),
                actual.Tensors.Select(t => $"{t.Name} {GgmlTypeInfo.Name(t.Type)} {t.ShapeText}"));
            foreach (var e in expected.Tensors)
            {
                var a = actual.GetTensor(e.Name);
                Assert.True(expected.GetTensorBytes(e).SequenceEqual(actual.GetTensorBytes(a)),
                    $"{fileType.Name}: tensor {e.Name} ({GgmlTypeInfo.Name(e.Type)}) differs from llama.cpp's bytes");
            }
            Assert.Equal(expected.MetadataKeys, actual.MetadataKeys);
            foreach (var key in expected.MetadataKeys)
                Assert.Equal(expected.Metadata[key].ToString(), actual.Metadata[key].ToString());
            Assert.Equal(2L, actual.GetInt("general.quantization_version"));
            Assert.Equal(fileType.Id, (uint)actual.GetInt("general.file_type")!.Value);
        }
        Assert.True(File.ReadAllBytes(expectedPath).AsSpan().SequenceEqual(File.ReadAllBytes(actualPath)),
            $"{fileType.Name}: the files differ although tensors and metadata match");
        output.WriteLine($"{fileType.Name}{(pure ? " pure" : "")}: {string.Join(", ", result.Plan.TypeCounts.Select(c => $"{c.Count} {GgmlTypeInfo.Name(c.Type)}"))}, " +
            $"{result.InputFileBytes} -> {result.OutputFileBytes} bytes, identical to llama.cpp's file");
    }
}
