using Frugal.Numerics.Ops;

namespace Frugal.Tests.Models;

/// <summary>The f32 ops of the forward pass against plain double-precision formulas.</summary>
public class OpsTests
{
    [Fact]
    public void Rms_norm_scales_to_unit_root_mean_square_then_by_the_weight()
    {
        float[] x = [1, -2, 3, -4];
        float[] w = [1, 0.5f, 2, 1];
        var y = new float[4];
        RmsNorm.Apply(x, w, 1e-6f, y);
        double rms = Math.Sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
        for (int i = 0; i < 4; i++) Assert.Equal(x[i] / rms * w[i], y[i], 6);
    }

    [Theory]
    [InlineData(RopeStyle.Normal)]
    [InlineData(RopeStyle.NeoX)]
    public void Rope_rotates_the_right_pairs_by_position_times_frequency(RopeStyle style)
    {
        const int dims = 8, position = 7;
        float freqBase = 100f;
        float[] factors = [1f, 2f, 4f, 8f];
        var cos = new float[dims / 2];
        var sin = new float[dims / 2];
        Rope.Angles(position, dims, freqBase, 0.5f, factors, cos, sin);
        var head = Random(new Random(1), dims + 2, 1f);  // two trailing dims beyond the rotary part
        var original = (float[])head.Clone();
        Rope.Apply(head, cos, sin, style);

        for (int i = 0; i < dims / 2; i++)
        {
            double theta = 0.5 * position * Math.Pow(freqBase, -2.0 * i / dims) / factors[i];
            var (a, b) = style == RopeStyle.Normal ? (2 * i, 2 * i + 1) : (i, i + dims / 2);
            Assert.Equal(original[a] * Math.Cos(theta) - original[b] * Math.Sin(theta), head[a], 5);
            Assert.Equal(original[a] * Math.Sin(theta) + original[b] * Math.Cos(theta), head[b], 5);
        }
        Assert.Equal(original[dims..], head[dims..]);
    }

    [Fact]
    public void SwiGlu_is_silu_of_gate_times_up()
    {
        var gate = Random(new Random(2), 37, 3f);
        var up = Random(new Random(3), 37, 1f);
        var expected = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
        SwiGlu.ApplyInPlace(gate, up);
        for (int i = 0; i < gate.Length; i++) Assert.Equal(expected[i], gate[i], 5);
    }

    [Fact]
    public void Softmax_is_stable_for_large_inputs_and_sums_to_one()
    {
        float[] x = [1000f, 1001f, 999f];
        var y = new float[3];
        Softmax.Apply(x, y);
        double z = Math.Exp(-1) + 1 + Math.Exp(-2);
        Assert.Equal(Math.Exp(-1) / z, y[0], 6);
        Assert.Equal(1 / z, y[1], 6);
        Assert.Equal(1.0, y.Sum(), 6);
    }

    private static float[] Random(Random rng, int n, float scale) =>
        Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
}
