namespace Frugal.Tests.Models;

/// <summary>Measures of agreement between two [positions, vocab] logit tables.</summary>
public static class LogitComparison
{
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++)
            if (x[i] > x[best]) best = i;
        return best;
    }

    /// <summary>The gap between the largest and second-largest logit.</summary>
    public static float TopTwoMargin(ReadOnlySpan<float> x)
    {
        float first = float.NegativeInfinity, second = float.NegativeInfinity;
        foreach (float v in x)
        {
            if (v > first) { second = first; first = v; }
            else if (v > second) second = v;
        }
        return first - second;
    }

    public static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    /// <summary>
    /// Asserts per-position cosine similarity of at least <paramref name="minCosine"/>, and the same argmax at every
    /// position where the reference's top-2 margin exceeds <paramref name="margin"/>; returns the worst cosine.
    /// </summary>
    public static double AssertClose(float[] expected, float[] actual, int vocab, double minCosine, float margin = 1e-3f)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 1;
        for (int p = 0; p < expected.Length / vocab; p++)
        {
            var e = expected.AsSpan(p * vocab, vocab);
            var a = actual.AsSpan(p * vocab, vocab);
            double cos = Cosine(e, a);
            worst = Math.Min(worst, cos);
            Assert.True(cos >= minCosine, $"position {p}: cosine {cos:F7} < {minCosine} (max |diff| {MaxAbsDiff(e, a):G4})");
            if (TopTwoMargin(e) > margin)
                Assert.True(ArgMax(e) == ArgMax(a), $"position {p}: argmax {ArgMax(a)} differs from llama.cpp's {ArgMax(e)} (margin {TopTwoMargin(e):G4})");
        }
        return worst;
    }
}
