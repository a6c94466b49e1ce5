using Frugal.Train.Model;

namespace Frugal.Tests.Training;

public class StableSoftMaxTests
{
    [Fact]
    public void Softmax_of_scores_beyond_float_exp_range_stays_finite_and_exact()
    {
        float[] scores = [1000f, 999f, -5f];
        var p = new float[3];
        Ops.StableSoftMax(scores, p);
        float e = MathF.Exp(-1f);
        Assert.Equal(1f / (1f + e), p[0], 5);
        Assert.Equal(e / (1f + e), p[1], 5);
        Assert.Equal(0f, p[2], 6);
    }
}
