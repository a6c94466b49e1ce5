using Frugal.Numerics;
using Frugal.Tests.Oracle;

namespace Frugal.Tests.Quant;

/// <summary>Our quantizers against ggml_quantize_chunk without an importance matrix: the same bytes.</summary>
public class QuantizeOracleTests
{
    public static readonly GgmlType[] QuantizableTypes =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16,
        GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    public static IEnumerable<object[]> Cases() =>
        from t in QuantizableTypes from d in QuantTestData.Distributions select new object[] { t, d };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Quantize_matches_ggml_byte_for_byte(GgmlType type, string distribution)
    {
        foreach (int n in QuantTestData.RowLengths(type))
        {
            float[] x = QuantTestData.Generate(distribution, n);
            byte[] expected = GgmlNative.QuantizeChunk(type, x, 1, n);
            var actual = new byte[expected.Length];
            Quantize.Row(type, x, actual);
            QuantTestData.AssertBytesEqual(expected, actual, $"{type} {distribution} n={n}", GgmlTypeInfo.TypeSize(type));
        }
    }

    [Theory]
    [MemberData(nameof(QuantTestData.BlockTypeCases), MemberType = typeof(QuantTestData))]
    public void Row_by_row_quantization_matches_a_multi_row_ggml_chunk(GgmlType type)
    {
        const int rows = 3;
        int perRow = GgmlTypeInfo.BlockSize(type) * 5, rowBytes = (int)GgmlTypeInfo.RowBytes(type, perRow);
        float[] x = QuantTestData.Generate("outliers", rows * perRow);
        byte[] expected = GgmlNative.QuantizeChunk(type, x, rows, perRow);
        var actual = new byte[expected.Length];
        for (int r = 0; r < rows; r++)
            Quantize.Row(type, x.AsSpan(r * perRow, perRow), actual.AsSpan(r * rowBytes, rowBytes));
        QuantTestData.AssertBytesEqual(expected, actual, $"{type} {rows} rows", GgmlTypeInfo.TypeSize(type));
    }

    [Theory]
    [MemberData(nameof(QuantTestData.DistributionCases), MemberType = typeof(QuantTestData))]
    public void Q8_K_activation_quantization_matches_ggml_byte_for_byte(string distribution)
    {
        foreach (int n in new[] { 256, 256 * 11 })
        {
            float[] x = QuantTestData.Generate(distribution, n);
            byte[] expected = GgmlNative.QuantizeRow("quantize_row_q8_K_ref", GgmlType.Q8_K, x);
            var actual = new byte[expected.Length];
            Quantize.Row(GgmlType.Q8_K, x, actual);
            QuantTestData.AssertBytesEqual(expected, actual, $"Q8_K {distribution} n={n}", 292);
            float[] back = GgmlNative.DequantizeRow(GgmlType.Q8_K, actual, n);
            var ours = new float[n];
            Frugal.Numerics.Quant.BlockQ8_K.Dequantize(
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Frugal.Numerics.Quant.BlockQ8_K>(actual), ours);
            QuantTestData.AssertBitExact(back, ours, $"Q8_K dequantize {distribution}");
        }
    }

    [Fact]
    public void Sixteen_bit_quantization_matches_ggml_on_special_values()
    {
        float[] x =
        [
            0f, -0f, 1f, -1f, 65504f, 65519.99f, 65520f, 1e9f, -1e9f, float.PositiveInfinity, float.NegativeInfinity,
            float.NaN, -float.NaN, 5.96e-8f, 2.98e-8f, 2.99e-8f, 1e-40f, -1e-40f, float.Epsilon, 3.14159265f, 1.0009766f,
            BitConverter.Int32BitsToSingle(0x3F808000), BitConverter.Int32BitsToSingle(0x3F818000), BitConverter.Int32BitsToSingle(0x7F800001),
        ];
        foreach (var type in new[] { GgmlType.F16, GgmlType.BF16 })
        {
            byte[] expected = GgmlNative.QuantizeChunk(type, x, 1, x.Length);
            var actual = new byte[expected.Length];
            Quantize.Row(type, x, actual);
            QuantTestData.AssertBytesEqual(expected, actual, type.ToString(), 2);
        }
    }
}
