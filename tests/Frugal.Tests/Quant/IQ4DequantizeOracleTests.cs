using System.Runtime.CompilerServices;
using Frugal.Numerics;
using Frugal.Numerics.Quant;
using Frugal.Tests.Oracle;

namespace Frugal.Tests.Quant;

/// <summary>IQ4_NL and IQ4_XS: block sizes from ggml-common.h and dequantization bit for bit against ggml's dequantize_row_*.</summary>
public class IQ4DequantizeOracleTests
{
    public static TheoryData<GgmlType> Types => new() { GgmlType.IQ4_NL, GgmlType.IQ4_XS };

    public static IEnumerable<object[]> TypeByDistribution() =>
        from t in new[] { GgmlType.IQ4_NL, GgmlType.IQ4_XS } from d in QuantTestData.Distributions select new object[] { t, d };

    [Fact]
    public void Block_structs_have_ggml_sizes()
    {
        Assert.Equal(18, Unsafe.SizeOf<BlockIQ4_NL>());
        Assert.Equal(136, Unsafe.SizeOf<BlockIQ4_XS>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.IQ4_NL), Unsafe.SizeOf<BlockIQ4_NL>());
        Assert.Equal(GgmlTypeInfo.TypeSize(GgmlType.IQ4_XS), Unsafe.SizeOf<BlockIQ4_XS>());
        Assert.Equal(BlockIQ4_NL.Elements, GgmlTypeInfo.BlockSize(GgmlType.IQ4_NL));
        Assert.Equal(BlockIQ4_XS.Elements, GgmlTypeInfo.BlockSize(GgmlType.IQ4_XS));
    }

    [Theory]
    [MemberData(nameof(TypeByDistribution))]
    public void Dequantize_matches_ggml_bit_for_bit_on_blocks_ggml_quantized(GgmlType type, string distribution)
    {
        foreach (int n in QuantTestData.RowLengths(type))
        {
            float[] x = QuantTestData.Generate(distribution, n);
            byte[] blocks = GgmlNative.QuantizeChunk(type, x, 1, n);
            float[] expected = GgmlNative.DequantizeRow(type, blocks, n);
            var actual = new float[n];
            Dequantize.Row(type, blocks, actual);
            QuantTestData.AssertBitExact(expected, actual, $"{type} {distribution} n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Dequantize_matches_ggml_bit_for_bit_on_random_block_bytes(GgmlType type)
    {
        // Random bytes reach every nibble, every 6-bit scale code (IQ4_XS) and every fp16 sign and exponent.
        const int blocksPerRow = 64;
        int n = GgmlTypeInfo.BlockSize(type) * blocksPerRow, blockBytes = GgmlTypeInfo.TypeSize(type);
        var rng = new Random(4321 + (int)type);
        var bytes = new byte[blockBytes * blocksPerRow];
        rng.NextBytes(bytes);
        for (int b = 0; b < blocksPerRow; b++)
        {
            ushort h = (ushort)((rng.Next(2) << 15) | (rng.Next(31) << 10) | rng.Next(1024)); // finite fp16 d at byte 0
            BitConverter.TryWriteBytes(bytes.AsSpan(b * blockBytes, 2), h);
        }
        float[] expected = GgmlNative.DequantizeRow(type, bytes, n);
        var actual = new float[n];
        Dequantize.Row(type, bytes, actual);
        QuantTestData.AssertBitExact(expected, actual, $"{type} random bytes");
        Assert.Contains(actual, v => v != 0);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Quantizing_to_an_i_quant_is_refused_by_name(GgmlType type)
    {
        Assert.False(Quantize.CanQuantizeTo(type));
        var e = Assert.Throws<NotSupportedException>(() => Quantize.Row(type, new float[256], new byte[256]));
        Assert.Contains(type.ToString(), e.Message);
    }
}
