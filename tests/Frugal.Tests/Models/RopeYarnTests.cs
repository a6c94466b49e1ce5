using Frugal.Numerics.Ops;

namespace Frugal.Tests.Models;

/// <summary>YaRN's angles against the formulas of the YaRN paper / ggml's rope_yarn, written out in double.</summary>
public class RopeYarnTests
{
    [Fact]
    public void Correction_dimensions_are_where_beta_fast_and_beta_slow_rotations_fit_the_original_context()
    {
        // dims 64, original context 4096, base 10000: the dimension with 32 rotations is 10.5, with 1 rotation 22.5.
        var y = RopeYarn.For(64, 4096, 10000f);
        double Dim(double rotations) => 64 * Math.Log(4096 / (rotations * 2 * Math.PI)) / (2 * Math.Log(10000));
        Assert.Equal(Math.Floor(Dim(32)), y.CorrLow);
        Assert.Equal(Math.Ceiling(Dim(1)), y.CorrHigh);
        Assert.Equal((10f, 23f), (y.CorrLow, y.CorrHigh));
        Assert.Equal(1f, y.Mix(0));
        Assert.Equal(1f, y.Mix(10));
        Assert.Equal(0f, y.Mix(23));
        Assert.Equal(1 - 6 / 13f, y.Mix(16), 6);
    }

    [Theory]
    [InlineData(RopeStyle.Normal)]
    [InlineData(RopeStyle.NeoX)]
    public void Angles_blend_interpolated_and_original_frequencies_and_scale_the_magnitude(RopeStyle style)
    {
        const int dims = 64, position = 300;
        const float factor = 4f, attnFactor = 1.2f;
        var yarn = RopeYarn.For(dims, 4096, 10000f);
        float magnitude = attnFactor * RopeYarn.MagnitudeFor(1 / factor);
        var spec = new RopeSpec(style, dims, 10000f, 1 / factor, null, yarn, magnitude);
        var cos = new float[dims / 2];
        var sin = new float[dims / 2];
        Rope.Angles(position, spec, cos, sin);
        Assert.Equal(attnFactor * (1 + 0.1 * Math.Log(factor)), magnitude, 6);
        for (int i = 0; i < dims / 2; i++)
        {
            double original = position * Math.Pow(10000, -2.0 * i / dims);
            double ramp = 1 - Math.Clamp((i - 10) / 13.0, 0, 1);
            double theta = original / factor * (1 - ramp) + original * ramp;
            Assert.Equal(magnitude * Math.Cos(theta), cos[i], 3);
            Assert.Equal(magnitude * Math.Sin(theta), sin[i], 3);
            double frequency = Rope.Frequency(spec, i);   // the ramp is a float, so agreement is to float precision
            Assert.True(Math.Abs(frequency - theta / position) <= 1e-6 * theta / position, $"pair {i}: {frequency} vs {theta / position}");
        }
    }
}
