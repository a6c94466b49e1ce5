using System.Runtime.CompilerServices;
using Frugal.Numerics;
using Frugal.Numerics.Quant;

namespace Frugal.Tests.Quant;

public class BlockLayoutTests
{
    [Fact]
    public void Block_structs_have_ggml_sizes()
    {
        // Sizes from ggml-common.h's static_asserts.
        Assert.Equal(34, Unsafe.SizeOf<BlockQ8_0>());
        Assert.Equal(18, Unsafe.SizeOf<BlockQ4_0>());
        Assert.Equal(20, Unsafe.SizeOf<BlockQ4_1>());
        Assert.Equal(22, Unsafe.SizeOf<BlockQ5_0>());
        Assert.Equal(24, Unsafe.SizeOf<BlockQ5_1>());
        Assert.Equal(84, Unsafe.SizeOf<BlockQ2_K>());
        Assert.Equal(110, Unsafe.SizeOf<BlockQ3_K>());
        Assert.Equal(144, Unsafe.SizeOf<BlockQ4_K>());
        Assert.Equal(176, Unsafe.SizeOf<BlockQ5_K>());
        Assert.Equal(210, Unsafe.SizeOf<BlockQ6_K>());
        Assert.Equal(292, Unsafe.SizeOf<BlockQ8_K>());
        Assert.Equal(36, Unsafe.SizeOf<BlockQ8_1>());
    }

    [Fact]
    public void Block_struct_sizes_agree_with_the_type_table()
    {
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q8_0), Unsafe.SizeOf<BlockQ8_0>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q4_0), Unsafe.SizeOf<BlockQ4_0>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q4_1), Unsafe.SizeOf<BlockQ4_1>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q5_0), Unsafe.SizeOf<BlockQ5_0>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q5_1), Unsafe.SizeOf<BlockQ5_1>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q2_K), Unsafe.SizeOf<BlockQ2_K>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q3_K), Unsafe.SizeOf<BlockQ3_K>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q4_K), Unsafe.SizeOf<BlockQ4_K>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q5_K), Unsafe.SizeOf<BlockQ5_K>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q6_K), Unsafe.SizeOf<BlockQ6_K>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.Q8_K), Unsafe.SizeOf<BlockQ8_K>());
    }

    [Fact]
    public void Dequantize_supports_exactly_the_implemented_types()
    {
        GgmlType[] expected =
        [
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
            GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.IQ4_NL, GgmlType.IQ4_XS,
        ];
        Assert.Equal(expected.Order(), Enum.GetValues<GgmlType>().Where(Dequantize.IsSupported).Order());
    }

    [Theory]
    [InlineData(GgmlType.IQ2_XS)]
    [InlineData(GgmlType.IQ3_S)]
    [InlineData(GgmlType.Q8_K)]
    [InlineData(GgmlType.TQ1_0)]
    public void Dequantizing_an_unsupported_type_names_it(GgmlType type)
    {
        var dst = new float[256];
        var ex = Assert.Throws<NotSupportedException>(() => Dequantize.Row(type, new byte[4096], dst));
        Assert.Contains(type.ToString(), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dequantizing_an_unknown_type_id_names_the_id()
    {
        var ex = Assert.Throws<NotSupportedException>(() => Dequantize.Row((GgmlType)77, new byte[64], new float[32]));
        Assert.Contains("type#77", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GgmlType.IQ2_XS)]
    [InlineData(GgmlType.MXFP4)]
    [InlineData(GgmlType.Q8_1)]
    public void Quantizing_to_an_unsupported_type_names_it(GgmlType type)
    {
        Assert.False(Quantize.CanQuantizeTo(type));
        var ex = Assert.Throws<NotSupportedException>(() => Quantize.Row(type, new float[256], new byte[4096]));
        Assert.Contains(type.ToString(), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_row_that_is_not_whole_blocks_is_rejected_with_the_block_size()
    {
        var ex = Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q4_K, new float[300], new byte[1024]));
        Assert.Contains("256", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_0, new byte[64], new float[33]));
    }

    [Fact]
    public void Too_short_buffers_are_rejected_with_the_needed_size()
    {
        var ex = Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q6_K, new float[512], new byte[419]));
        Assert.Contains("420", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q8_0, new byte[67], new float[64]));
        Assert.Contains("68", ex.Message, StringComparison.Ordinal);
    }
}
