using Frugal.Numerics.Kernels;

namespace Frugal.Tests.Kernels;

/// <summary>The F16 weights' activation rounding: every f32 to its nearest fp16 and back, as the conversion does.</summary>
public sealed unsafe class HalfRoundingTests
{
    [Fact]
    public void Rounding_equals_the_conversion_for_normals_subnormals_ties_overflow_and_specials()
    {
        var rnd = new Random(7);
        var values = new List<float>
        {
            0f, -0f, 1f, -1f, 65504f, 65519.99f, 65520f, -65520f, 1e9f, float.PositiveInfinity, float.NegativeInfinity,
            6.1035156e-05f, 6.1035153e-05f, 5.9604645e-08f, 2.9802322e-08f, 2.9802326e-08f, 8.940697e-08f, 1e-30f, -3e-6f,
            1.0009766f, 1.00048828125f, 1.00146484375f, // a tie rounding down to even, and one rounding up
        };
        for (int i = 0; i < 20000; i++)
        {
            float mag = MathF.Pow(2, rnd.Next(-30, 18));
            values.Add((rnd.NextSingle() * 2 - 1) * mag);
        }
        var x = values.ToArray();
        var y = new float[x.Length];
        fixed (float* xp = x)
        fixed (float* yp = y)
            HalfConversion.RoundToHalf(xp, yp, x.Length);
        for (int i = 0; i < x.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits((float)(Half)x[i]) == BitConverter.SingleToInt32Bits(y[i]),
                $"{x[i]:R}: expected {(float)(Half)x[i]:R}, got {y[i]:R}");
        float[] nan = [float.NaN, 1, 2, 3, 4, 5, 6, 7];
        var back = new float[8];
        fixed (float* np = nan)
        fixed (float* bp = back)
            HalfConversion.RoundToHalf(np, bp, 8);
        Assert.True(float.IsNaN(back[0]));
    }
}
