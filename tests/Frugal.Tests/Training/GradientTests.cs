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
}
