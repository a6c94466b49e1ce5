using System.Runtime.InteropServices;
using Frugal.Numerics.Kernels;

namespace Frugal.Tests.Kernels;

public sealed unsafe class ActivationQuantizerTests
{
    private static float[] Input(int cols, int seed)
    {
        var x = KernelTestData.Activations(1, cols, seed);
        // Edge blocks: an all-zero block and a block whose largest magnitude is negative.
        Array.Clear(x, 0, 32);
        x[Math.Min(300, cols - 1)] = -3.5f;
        return x;
    }

    [Theory]
    [InlineData(256)]
    [InlineData(7 * 256)]
    public void Q8_K_vector_and_scalar_twins_agree_bit_for_bit(int cols)
    {
        var x = Input(cols, cols);
        var (q1, d1, s1) = Q8K(x, simd: false);
        var (q2, d2, s2) = Q8K(x, simd: true);
        Assert.Equal(q1, q2);
        Assert.Equal(d1, d2);
        Assert.Equal(s1, s2);
        Assert.All(d1, d => Assert.NotEqual(0f, d));
    }

    [Theory]
    [InlineData(32)]
    [InlineData(33 * 32)]
    public void Q8_0_vector_and_scalar_twins_agree_bit_for_bit(int cols)
    {
        var x = Input(Math.Max(cols, 512), cols)[..cols];
        var (q1, s1) = Q80(x, simd: false);
        var (q2, s2) = Q80(x, simd: true);
        Assert.Equal(q1, q2);
        Assert.Equal(s1, s2);
        Assert.All(q1[..32], v => Assert.Equal(0, v));
    }

    [Fact]
    public void Q8_K_matches_ggml_quantize_row_q8_K_ref()
    {
        var x = Input(4 * 256, 5);
        var (q, d, sums) = Q8K(x, simd: true);
        var ggml = GgmlQuantOracle.QuantizeQ8K(x);
        for (int b = 0; b < 4; b++)
        {
            var blk = ggml.AsSpan(b * 292, 292);
            Assert.Equal(BitConverter.ToSingle(blk), d[b]);
            Assert.Equal(MemoryMarshal.Cast<byte, sbyte>(blk.Slice(4, 256)).ToArray(), q.AsSpan(b * 256, 256).ToArray());
            Assert.Equal(MemoryMarshal.Cast<byte, short>(blk.Slice(260, 32)).ToArray(), sums.AsSpan(b * 16, 16).ToArray());
        }
    }

    [Fact]
    public void Q8_0_scales_are_fp16_rounded_amax_over_127_and_quants_reconstruct_the_input()
    {
        var x = Input(512, 9)[..64];
        var (q, s) = Q80(x, simd: true);
        float amax = x.Skip(32).Take(32).Max(MathF.Abs);
        float d = s[1]; // second block of the first pair
        Assert.Equal((float)(Half)(amax / 127), d);
        for (int j = 32; j < 64; j++)
            Assert.True(Math.Abs(q[j] * d - x[j]) <= d * 0.5 + amax * 1e-3, $"element {j}");
        Assert.Equal(d * q.Skip(32).Take(32).Sum(v => (int)v) / 8, s[3], 5);
    }

    private static (sbyte[] Q, float[] D, short[] Sums) Q8K(float[] x, bool simd)
    {
        int nb = x.Length / 256;
        var q = new sbyte[x.Length];
        var d = new float[nb];
        var s = new short[nb * 16];
        fixed (float* xp = x)
        fixed (sbyte* qp = q)
        fixed (float* dp = d)
        fixed (short* sp = s)
            ActivationQuantizer.Q8_KRow(xp, x.Length, qp, dp, sp, simd);
        return (q, d, s);
    }

    private static (sbyte[] Q, float[] Scales) Q80(float[] x, bool simd)
    {
        var q = new sbyte[QuantizedRows.QsStrideFor(x.Length)];
        var s = new float[QuantizedRows.Q8_0ScaleStride(x.Length)];
        fixed (float* xp = x)
        fixed (sbyte* qp = q)
        fixed (float* sp = s)
            ActivationQuantizer.Q8_0Row(xp, x.Length, qp, sp, simd);
        return (q, s);
    }
}
