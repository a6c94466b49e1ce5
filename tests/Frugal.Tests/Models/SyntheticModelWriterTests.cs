using Frugal.Gguf;
using Frugal.Models.Synthetic;
using Frugal.Numerics;

namespace Frugal.Tests.Models;

/// <summary>Synthetic files carry each family's own tensors and keys, with llama.cpp's names.</summary>
public class SyntheticModelWriterTests
{
    [Theory]
    [InlineData(SyntheticFamily.Llama3, "rope_freqs.weight", "blk.0.attn_q.bias")]
    [InlineData(SyntheticFamily.Qwen2, "blk.1.attn_v.bias", "blk.0.attn_q_norm.weight")]
    [InlineData(SyntheticFamily.Qwen3, "blk.1.attn_k_norm.weight", "rope_freqs.weight")]
    public void Each_family_has_its_own_tensors_and_not_the_others(SyntheticFamily family, string present, string absent)
    {
        var spec = SyntheticModelSpec.Tiny(family, GgmlType.F16, tied: true);
        using var file = GgufFile.FromBytes(SyntheticModelWriter.Build(spec).ToArray());
        Assert.Equal(spec.Architecture, file.GetString("general.architecture"));
        Assert.NotNull(file.FindTensor(present));
        Assert.Null(file.FindTensor(absent));
        Assert.Null(file.FindTensor("output.weight"));
        var q = file.GetTensor("blk.0.attn_q.weight");
        Assert.Equal(GgmlType.F16, q.Type);
        Assert.Equal(new long[] { spec.EmbeddingLength, spec.HeadCount * spec.HeadDim }, q.Dimensions);
        Assert.Equal(GgmlType.F32, file.GetTensor("blk.0.attn_norm.weight").Type);
        Assert.Equal(spec.VocabSize, file.Find("tokenizer.ggml.tokens")!.ArrayLength);
        Assert.Equal("<0x0A>", file.Find("tokenizer.ggml.tokens")!.AsArray<string>()[SyntheticVocabulary.FirstByte + 10]);
    }

    [Fact]
    public void Llama3_rope_factors_keep_high_frequencies_and_divide_low_ones_by_the_factor()
    {
        // Llama 3.1 8B: head 128, base 500000, factor 8, low 1, high 4, original context 8192.
        var f = Llama3RopeFactors.Compute(new Llama3RopeScaling(8f, 1f, 4f, 8192), 128, 500000f);
        Assert.Equal(64, f.Length);
        Assert.Equal(1f, f[0]);            // wavelength 2π, far below 8192/4
        Assert.Equal(8f, f[63]);           // wavelength ~1e6, above 8192
        Assert.All(f.Zip(f.Skip(1)), p => Assert.True(p.Second >= p.First));
        // Between the two wavelengths the factor blends smoothly: 1/((1-s)/8 + s), s = (8192/λ - 1)/3.
        int mid = Array.FindIndex(f, v => v > 1f && v < 8f);
        double wavelen = 2 * Math.PI * Math.Pow(500000, 2.0 * mid / 128);
        double s = (8192 / wavelen - 1) / 3;
        Assert.Equal(1 / ((1 - s) / 8 + s), f[mid], 4);
    }

    [Fact]
    public void Same_spec_writes_the_same_bytes_and_another_seed_does_not()
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Qwen3);
        Assert.Equal(SyntheticModelWriter.Build(spec).ToArray(), SyntheticModelWriter.Build(spec).ToArray());
        Assert.NotEqual(SyntheticModelWriter.Build(spec).ToArray(), SyntheticModelWriter.Build(spec with { Seed = 99 }).ToArray());
    }

    [Fact]
    public void A_vocabulary_too_small_for_the_byte_tokens_is_rejected()
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Llama3) with { VocabSize = 200 };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticModelWriter.Build(spec));
        Assert.Contains("259", e.Message);
    }
}
