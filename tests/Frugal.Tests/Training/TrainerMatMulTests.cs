using Frugal.Evaluation;
using Frugal.Train.Model;

namespace Frugal.Tests.Training;

/// <summary>The trainer's register-blocked product against a naive triple loop, at sizes that leave every kind of tail.</summary>
public class TrainerMatMulTests
{
    private static readonly int[] Sizes = [1, 3, 5, 17, 33, 130];

    private static float[] Random(int length, SplitMix64 rng)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>op(A)[i,p] = a[i·aRow + p·aCol]; p runs over [from(i), to(i)).</summary>
    private static void AssertMatchesNaive(float[] a, int aRow, int aCol, float[] b, int ldb, float[] c0, float[] c, int ldc,
        int m, int n, int k, bool accumulate, Func<int, (int From, int To)> range, Func<int, int, bool> checkedAt, string what)
    {
        for (int i = 0; i < m; i++)
        {
            var (from, to) = range(i);
            for (int j = 0; j < n; j++)
            {
                if (!checkedAt(i, j)) continue;
                double sum = accumulate ? c0[i * ldc + j] : 0, mag = Math.Abs(sum);
                for (int p = from; p < to; p++)
                {
                    double term = (double)a[i * aRow + p * aCol] * b[p * ldb + j];
                    sum += term;
                    mag += Math.Abs(term);
                }
                Assert.True(Math.Abs(c[i * ldc + j] - sum) <= 1e-5 * (mag + 1),
                    $"{what} [{m},{k}]·[{k},{n}] at ({i},{j}): got {c[i * ldc + j]}, naive {sum}");
            }
        }
    }

    [Fact]
    public void Full_products_match_a_naive_loop_at_odd_sizes()
    {
        var rng = new SplitMix64(3);
        foreach (int m in Sizes)
            foreach (int n in Sizes)
                foreach (int k in Sizes)
                {
                    bool accumulate = (m + n + k) % 2 == 0;
                    var b = Random(k * n, rng);
                    var c0 = Random(m * n, rng);

                    var a = Random(m * k, rng);
                    var c = (float[])c0.Clone();
                    MatMul.AB(a, b, c, m, n, k, accumulate);
                    AssertMatchesNaive(a, k, 1, b, n, c0, c, n, m, n, k, accumulate, _ => (0, k), (_, _) => true, "AB");

                    c = (float[])c0.Clone();
                    MatMul.AtB(a, b, c, m, n, k, accumulate);   // a read as [K, M]
                    AssertMatchesNaive(a, 1, m, b, n, c0, c, n, m, n, k, accumulate, _ => (0, k), (_, _) => true, "AtB");
                }
    }

    [Fact]
    public void Products_with_a_large_B_run_in_K_blocks_and_still_match_a_naive_loop()
    {
        // k·n above 128K floats: the product is split along K, with C carrying the partial sums between blocks.
        var rng = new SplitMix64(6);
        int m = 9, n = 130, k = 1100;
        var a = Random(m * k, rng);
        var b = Random(k * n, rng);
        var c0 = Random(m * n, rng);
        var c = (float[])c0.Clone();
        MatMul.AB(a, b, c, m, n, k, accumulate: true);
        AssertMatchesNaive(a, k, 1, b, n, c0, c, n, m, n, k, true, _ => (0, k), (_, _) => true, "AB in K blocks");
        c = (float[])c0.Clone();
        MatMul.AtB(a, b, c, m, n, k, accumulate: false);
        AssertMatchesNaive(a, 1, m, b, n, c0, c, n, m, n, k, false, _ => (0, k), (_, _) => true, "AtB in K blocks");

        int t = 383, kc = 401;
        a = Random(t * kc, rng);
        b = Random(kc * t, rng);
        c0 = new float[t * t];
        c = new float[t * t];
        MatMul.AB(a, b, c, t, t, kc, accumulate: false, Causal.LowerC);
        AssertMatchesNaive(a, kc, 1, b, t, c0, c, t, t, t, kc, false, _ => (0, kc), (i, j) => j <= i, "LowerC in K blocks");
    }

    [Fact]
    public void Strided_operands_leave_the_gaps_between_rows_alone()
    {
        var rng = new SplitMix64(4);
        int m = 33, n = 40, k = 17, ldb = 50, ldc = 45;
        var a = Random(m * 20, rng);   // op(A) = columns 0..16 of a [33, 20]
        var b = Random(k * ldb, rng);
        var c0 = Random(m * ldc, rng);
        var c = (float[])c0.Clone();
        MatMul.Multiply(a, 20, 1, b, ldb, c, ldc, m, n, k, accumulate: true);
        AssertMatchesNaive(a, 20, 1, b, ldb, c0, c, ldc, m, n, k, true, _ => (0, k), (_, _) => true, "strided");
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++) Assert.Equal(c0[i * ldc + j], c[i * ldc + j]);
    }

    [Fact]
    public void Causal_products_match_a_naive_loop_and_never_read_the_masked_half()
    {
        var rng = new SplitMix64(5);
        foreach (int t in Sizes)
            foreach (int other in Sizes)
            {
                // LowerC: [t, other]·[other, t], only j ≤ i is defined.
                var a = Random(t * other, rng);
                var b = Random(other * t, rng);
                var c0 = Random(t * t, rng);
                var c = (float[])c0.Clone();
                MatMul.AB(a, b, c, t, t, other, accumulate: false, Causal.LowerC);
                AssertMatchesNaive(a, other, 1, b, t, c0, c, t, t, t, other, false, _ => (0, other), (i, j) => j <= i, "LowerC");

                // A [t, t] lower triangular with NaN above the diagonal: any read of it would poison the result.
                var tri = Random(t * t, rng);
                for (int i = 0; i < t; i++)
                    for (int j = i + 1; j < t; j++) tri[i * t + j] = float.NaN;
                b = Random(t * other, rng);
                c0 = Random(t * other, rng);

                c = (float[])c0.Clone();
                MatMul.AB(tri, b, c, t, other, t, accumulate: true, Causal.LowerA);   // P·V
                AssertMatchesNaive(tri, t, 1, b, other, c0, c, other, t, other, t, true, i => (0, i + 1), (_, _) => true, "LowerA");

                c = (float[])c0.Clone();
                MatMul.AtB(tri, b, c, t, other, t, accumulate: true, Causal.UpperA);  // Pᵀ·dO
                AssertMatchesNaive(tri, 1, t, b, other, c0, c, other, t, other, t, true, i => (i, t), (_, _) => true, "UpperA");
            }
    }
}
