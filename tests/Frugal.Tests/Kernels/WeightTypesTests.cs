using Frugal.Numerics;
using Frugal.Numerics.Kernels;

namespace Frugal.Tests.Kernels;

/// <summary>The registry rows that replaced the per-type switches: which type repacks where, into how many bytes, and its pre-scale.</summary>
public sealed class WeightTypesTests
{
    [Fact]
    public void Only_the_avx512_path_repacks_f16_and_the_quant_layouts_and_q8_0_and_q5_0_also_need_vnni()
    {
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            var repacked = Enum.GetValues<GgmlType>().Where(t => WeightTypes.Find(t)?.Repacks(path) == true).Order().ToArray();
            GgmlType[] expected = path != KernelPath.Avx512 ? []
                : Q8_0x16.IsSupported ? [GgmlType.F16, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS]
                : [GgmlType.F16, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];
            Assert.Equal(expected.Order(), repacked);
        }
    }

    [Theory]
    [InlineData(16, 256)]
    [InlineData(47, 4096)]
    public void Repacked_bytes_are_those_of_each_types_layout(int rows, int cols)
    {
        Assert.Equal(Q4_0x16.Bytes(rows, cols), WeightTypes.Find(GgmlType.Q4_0)!.RepackedBytes(rows, cols));
        Assert.Equal(Q8_0x16.Bytes(rows, cols), WeightTypes.Find(GgmlType.Q8_0)!.RepackedBytes(rows, cols));
        Assert.Equal(Q8_0x16.Bytes(rows, cols), WeightTypes.Find(GgmlType.Q5_0)!.RepackedBytes(rows, cols)); // widened to 8 bits
        Assert.Equal(Q4_Kx16.Bytes(rows, cols), WeightTypes.Find(GgmlType.Q4_K)!.RepackedBytes(rows, cols));
        Assert.Equal(Q6_Kx16.Bytes(rows, cols), WeightTypes.Find(GgmlType.Q6_K)!.RepackedBytes(rows, cols));
        Assert.Equal(F16x16.Bytes(rows, cols), WeightTypes.Find(GgmlType.F16)!.RepackedBytes(rows, cols)); // the same bytes, regrouped
        Assert.Equal(Q4_0x16.Bytes(rows, cols), WeightTypes.Find(GgmlType.IQ4_NL)!.RepackedBytes(rows, cols)); // Q4_0's layout
        Assert.Equal(IQ4_XSx16.Bytes(rows, cols), WeightTypes.Find(GgmlType.IQ4_XS)!.RepackedBytes(rows, cols));
        Assert.Equal(Q5_Kx16.Bytes(rows, cols), WeightTypes.Find(GgmlType.Q5_K)!.RepackedBytes(rows, cols));
        Assert.Equal(0, WeightTypes.Find(GgmlType.Q3_K)!.RepackedBytes(rows, cols));
        Assert.Equal(0, WeightTypes.Find(GgmlType.BF16)!.RepackedBytes(rows, cols));
    }

    [Fact]
    public void Only_the_constant_offset_formats_and_iq4_nl_pre_scale_and_only_on_avx512()
    {
        foreach (var type in KernelTestData.QuantTypes.Concat(KernelTestData.FloatTypes))
            foreach (var path in Enum.GetValues<KernelPath>())
            {
                float expected = path != KernelPath.Avx512 ? 0 : type switch
                {
                    GgmlType.Q4_0 => -8,
                    GgmlType.Q5_0 => -16,
                    GgmlType.IQ4_NL => -1024, // 16-row kernel's -128·da·Σq (the signed row kernels never read the sums)
                    _ => 0,
                };
                Assert.Equal(expected, WeightTypes.Find(type)!.PreScale(path));
            }
    }

    [Fact]
    public void Every_type_a_weight_matrix_accepts_dequantizes_and_takes_its_activations_in_its_familys_form()
    {
        foreach (var type in Enum.GetValues<GgmlType>())
        {
            var entry = WeightTypes.Find(type);
            Assert.Equal(Dequantize.IsSupported(type), entry?.IsWeight == true);
            if (entry is not { IsWeight: true })
                continue;
            var expected = type == GgmlType.F16 ? ActivationKind.F16 // rounded to fp16, as ggml's vec_dot_type for F16
                : GgmlTypeInfo.BlockSize(type) switch { 32 => ActivationKind.Q8_0, 256 => ActivationKind.Q8_K, _ => ActivationKind.None };
            Assert.Equal(expected, entry.Activation);
        }
    }

    [Fact]
    public void A_matrix_of_a_type_with_no_kernels_names_the_tensor_and_the_type()
    {
        var ex = Assert.Throws<NotSupportedException>(() => new WeightMatrix(GgmlType.Q8_K, 0, 1, 256, "blk.0.ffn_up.weight"));
        Assert.Contains("'blk.0.ffn_up.weight' has type Q8_K", ex.Message, StringComparison.Ordinal);
    }
}
