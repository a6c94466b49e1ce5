using Frugal.Evaluation;
using Frugal.Train.Model;

namespace Frugal.Tests.Training;

public class GradientTests
{
    private static readonly ModelShape Tiny = new(Dim: 16, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 24, Vocab: 40, Context: 12);

    [Fact]
    public void Backward_matches_finite_differences_for_every_tensor()
    {
        var weights = new Weights(new ParameterLayout(Tiny));
        weights.Initialize(11);
        // Larger weights than the 0.02 init so every path (attention mixing, gating) carries real signal.
        var rng = new SplitMix64(5);
        for (int i = 0; i < weights.Values.Length; i++) weights.Values[i] += (float)(rng.NextGaussian() * 0.3);
        weights.RefreshTransposes();
        int[] tokens = [1, 5, 9, 3, 5, 9, 30, 2, 17, 5];
        int[] targets = [5, 9, 3, -1, 9, 30, 2, 17, 5, 39];
        var pass = new SequencePass(weights, Tiny.Context);
        pass.TrainStep(tokens, targets, 1f);
        var analytic = (float[])pass.Gradients.Clone();

        double Loss()
        {
            weights.RefreshTransposes();
            var p = new SequencePass(weights, Tiny.Context);
            return p.TrainStep(tokens, targets, 1f);
        }

        foreach (var (name, offset, rows, cols) in weights.Layout.Tensors())
        {
            for (int probe = 0; probe < 3; probe++)
            {
                int i = offset + rng.Next(rows * cols);
                float saved = weights.Values[i];
                const float h = 1e-2f;
                weights.Values[i] = saved + h;
                double up = Loss();
                weights.Values[i] = saved - h;
                double down = Loss();
                weights.Values[i] = saved;
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-3 + 0.03 * Math.Abs(numeric),
                    $"{name}[{i - offset}]: analytic {analytic[i]:G5}, numeric {numeric:G5}");
            }
        }
    }

    [Fact]
    public void A_token_weight_scales_exactly_that_tokens_share_of_the_gradient()
    {
        var weights = new Weights(new ParameterLayout(Tiny));
        weights.Initialize(12);
        int[] tokens = [1, 5, 9, 3, 5, 9];
        int[] onlyFirst = [5, -1, -1, -1, -1, -1], onlyLast = [-1, -1, -1, -1, -1, 9], both = [5, -1, -1, -1, -1, 9];
        float[] Grad(int[] targets, float[] w)
        {
            var p = new SequencePass(weights, Tiny.Context);
            p.TrainStep(tokens, targets, 1f, w);
            return (float[])p.Gradients.Clone();
        }
        var first = Grad(onlyFirst, []);
        var last = Grad(onlyLast, []);
        var weighted = Grad(both, [1, 1, 1, 1, 1, 3]);
        double worst = 0;
        for (int i = 0; i < first.Length; i++)
            worst = Math.Max(worst, Math.Abs(weighted[i] - (first[i] + 3 * last[i])));
        Assert.True(worst < 1e-5, $"weighted gradient differs from g(first) + 3 g(last) by {worst}");
        Assert.True(last.Max(Math.Abs) > 1e-3, "the last token's gradient is not negligible");
        // The returned loss is unweighted.
        var pass = new SequencePass(weights, Tiny.Context);
        double plain = pass.TrainStep(tokens, both, 1f);
        Assert.Equal(plain, new SequencePass(weights, Tiny.Context).TrainStep(tokens, both, 1f, [1, 1, 1, 1, 1, 3]), 9);
    }
}
