using Frugal.Numerics;
using Frugal.Tests.Oracle;

namespace Frugal.Tests.Quant;

/// <summary>Our dequantizers against ggml's dequantize_row_*: the same float bits for the same blocks.</summary>
public class DequantizeOracleTests
{
    [Theory]
    [MemberData(nameof(QuantTestData.BlockTypeByDistribution), MemberType = typeof(QuantTestData))]
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

    /// <summary>Offsets of the fp16 scale fields in each block, from ggml-common.h.</summary>
    private static readonly Dictionary<GgmlType, int[]> Fp16Fields = new()
    {
        [GgmlType.Q8_0] = [0], [GgmlType.Q4_0] = [0], [GgmlType.Q4_1] = [0, 2], [GgmlType.Q5_0] = [0], [GgmlType.Q5_1] = [0, 2],
        [GgmlType.Q2_K] = [80, 82], [GgmlType.Q3_K] = [108], [GgmlType.Q4_K] = [0, 2], [GgmlType.Q5_K] = [0, 2], [GgmlType.Q6_K] = [208],
    };

    [Theory]
    [MemberData(nameof(QuantTestData.BlockTypeCases), MemberType = typeof(QuantTestData))]
    public void Dequantize_matches_ggml_bit_for_bit_on_random_block_bytes(GgmlType type)
    {
        // Random bytes reach bit patterns no quantizer writes (every scale/min code, every high bit).
        const int blocksPerRow = 64;
        int n = GgmlTypeInfo.BlockSize(type) * blocksPerRow, blockBytes = GgmlTypeInfo.TypeSize(type);
        var rng = new Random(1234 + (int)type);
        var bytes = new byte[blockBytes * blocksPerRow];
        rng.NextBytes(bytes);
        for (int b = 0; b < blocksPerRow; b++)
        {
            foreach (int offset in Fp16Fields[type])
            {
                // A finite fp16 of random sign and magnitude (exponent field 0..30; 31 would be inf/NaN).
                ushort h = (ushort)((rng.Next(2) << 15) | (rng.Next(31) << 10) | rng.Next(1024));
                BitConverter.TryWriteBytes(bytes.AsSpan(b * blockBytes + offset, 2), h);
            }
        }
        float[] expected = GgmlNative.DequantizeRow(type, bytes, n);
        var actual = new float[n];
        Dequantize.Row(type, bytes, actual);
        QuantTestData.AssertBitExact(expected, actual, $"{type} random bytes");
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void Sixteen_bit_floats_convert_like_ggml_for_every_bit_pattern(GgmlType type)
    {
        // All 65536 patterns, NaNs included.
        var bytes = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++) BitConverter.TryWriteBytes(bytes.AsSpan(2 * i, 2), (ushort)i);
        float[] expected = GgmlNative.ConvertRowToFloat(type, bytes, 65536);
        var actual = new float[65536];
        Dequantize.Row(type, bytes, actual);
        QuantTestData.AssertBitExact(expected, actual, $"{type} all patterns");
    }

    [Fact]
    public void F32_rows_come_back_unchanged()
    {
        float[] x = QuantTestData.Generate("outliers", 37);
        byte[] bytes = GgmlNative.QuantizeChunk(GgmlType.F32, x, 1, x.Length);
        var actual = new float[x.Length];
        Dequantize.Row(GgmlType.F32, bytes, actual);
        QuantTestData.AssertBitExact(x, actual, "F32");
    }
}
