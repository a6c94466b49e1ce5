using Frugal.Numerics;
using Frugal.Numerics.Quant;
using Xunit.Abstractions;

namespace Frugal.Tests.Quant;

/// <summary>Quantize then dequantize with our code only: error bounds that follow from each format's step size.</summary>
public class RoundTripTests(ITestOutputHelper output)
{
    [Fact]
    public void Q8_0_error_is_at_most_half_a_step_per_block()
    {
        float[] x = QuantTestData.Generate("outliers", 32 * 101);
        var bytes = new byte[GgmlTypeInfo.RowBytes(GgmlType.Q8_0, x.Length)];
        Quantize.Row(GgmlType.Q8_0, x, bytes);
        var y = new float[x.Length];
        Dequantize.Row(GgmlType.Q8_0, bytes, y);
        for (int b = 0; b < x.Length / 32; b++)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[32 * b + j]));
            float dExact = amax / 127, d16 = GgmlScalar.Fp16ToFloat(BitConverter.ToUInt16(bytes, 34 * b));
            // Half a step of the stored scale, plus what storing the scale as fp16 moved the largest quant.
            float bound = 0.5f * d16 + 127 * MathF.Abs(d16 - dExact) + 1e-6f * amax;
            for (int j = 0; j < 32; j++)
                Assert.True(MathF.Abs(x[32 * b + j] - y[32 * b + j]) <= bound, $"block {b} element {j}: |{x[32 * b + j]} - {y[32 * b + j]}| > {bound}");
        }
    }

    [Fact]
    public void Q4_0_error_is_at_most_one_step_per_block()
    {
        float[] x = QuantTestData.Generate("gaussian", 32 * 101);
        var bytes = new byte[GgmlTypeInfo.RowBytes(GgmlType.Q4_0, x.Length)];
        Quantize.Row(GgmlType.Q4_0, x, bytes);
        var y = new float[x.Length];
        Dequantize.Row(GgmlType.Q4_0, bytes, y);
        for (int b = 0; b < x.Length / 32; b++)
        {
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++)
                if (MathF.Abs(x[32 * b + j]) > amax) { amax = MathF.Abs(x[32 * b + j]); max = x[32 * b + j]; }
            float dExact = MathF.Abs(max / 8), d16 = MathF.Abs(GgmlScalar.Fp16ToFloat(BitConverter.ToUInt16(bytes, 18 * b)));
            // Levels run -8..7 in units of d with -8 at the largest magnitude, so the opposite extreme is a full step off.
            float bound = d16 + 8 * MathF.Abs(d16 - dExact) + 1e-6f * amax;
            for (int j = 0; j < 32; j++)
                Assert.True(MathF.Abs(x[32 * b + j] - y[32 * b + j]) <= bound, $"block {b} element {j}");
        }
    }

    /// <summary>
    /// Relative RMS error on Gaussian data. Each bound is the uniform-quantizer error step/√12 for the format's
    /// levels over a typical group range (group max ≈ 2σ for 16-32 samples), with 25-50% headroom.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0, 0.008)]  // 32 values, 255 levels over ±2.5σ
    [InlineData(GgmlType.Q4_0, 0.12)]   // 32 values, 16 levels over ±2.5σ
    [InlineData(GgmlType.Q4_1, 0.11)]   // 32 values, 16 levels over [min, max] ≈ 4.5σ
    [InlineData(GgmlType.Q5_0, 0.06)]
    [InlineData(GgmlType.Q5_1, 0.055)]
    [InlineData(GgmlType.Q2_K, 0.45)]   // 16 values, 4 levels over ≈ 3.5σ
    [InlineData(GgmlType.Q3_K, 0.18)]   // 16 values, 8 levels over ±1.8σ
    [InlineData(GgmlType.Q4_K, 0.10)]   // 32 values, 16 levels over ≈ 4σ, 6-bit scales
    [InlineData(GgmlType.Q5_K, 0.05)]
    [InlineData(GgmlType.Q6_K, 0.022)]  // 16 values, 64 levels over ±1.8σ
    [InlineData(GgmlType.F16, 0.0005)]
    [InlineData(GgmlType.BF16, 0.004)]
    public void Relative_rms_error_on_gaussian_rows_is_within_the_format_step(GgmlType type, double bound)
    {
        float[] x = QuantTestData.Generate("gaussian", 256 * 64);
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
        Quantize.Row(type, x, bytes);
        var y = new float[x.Length];
        Dequantize.Row(type, bytes, y);
        double err = 0, sig = 0;
        for (int i = 0; i < x.Length; i++)
        {
            err += (double)(x[i] - y[i]) * (x[i] - y[i]);
            sig += (double)x[i] * x[i];
        }
        double rel = Math.Sqrt(err / sig);
        output.WriteLine($"{type}: relative RMS error {rel:F5} (bound {bound})");
        Assert.True(rel < bound, $"{type}: relative RMS error {rel:F5} >= {bound}");
    }

    [Theory]
    [MemberData(nameof(QuantTestData.BlockTypeCases), MemberType = typeof(QuantTestData))]
    public void Zero_rows_round_trip_to_exact_zeros(GgmlType type)
    {
        int n = GgmlTypeInfo.BlockSize(type) * 3;
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, n)];
        Array.Fill(bytes, (byte)0xAB); // stale contents must be overwritten
        Quantize.Row(type, new float[n], bytes);
        var y = new float[n];
        Dequantize.Row(type, bytes, y);
        Assert.All(y, v => Assert.Equal(0f, MathF.Abs(v)));
    }

    [Fact]
    public void Q8_K_sums_are_the_sums_of_each_16_quants()
    {
        float[] x = QuantTestData.Generate("uniform", 512);
        var blocks = new BlockQ8_K[2];
        BlockQ8_K.Quantize(x, blocks);
        for (int b = 0; b < 2; b++)
            for (int g = 0; g < 16; g++)
            {
                int sum = 0;
                for (int j = 0; j < 16; j++) sum += GetQ(blocks[b], 16 * g + j);
                Assert.Equal(sum, GetBSum(blocks[b], g));
            }
    }

    private static unsafe int GetQ(BlockQ8_K b, int j) => b.Qs[j];

    private static unsafe int GetBSum(BlockQ8_K b, int g) => b.BSums[g];
}
