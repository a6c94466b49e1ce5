using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>
/// The normalized Walsh-Hadamard transform, and keys stored rotated by it: the transform is the Sylvester matrix
/// over √n and its own inverse, and attention over rotated keys with rotated queries is attention without rotation.
/// </summary>
public sealed class WalshHadamardTests
{
    public static TheoryData<int> Lengths => [1, 2, 4, 8, 16, 32, 64, 128, 256];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Equals_the_Sylvester_matrix_over_root_n(int n)
    {
        var x = Gaussian(new Random(n), n, 1f);
        var expected = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                expected[i] += (System.Numerics.BitOperations.PopCount((uint)(i & j)) % 2 == 0 ? 1 : -1) * x[j] / Math.Sqrt(n);
        WalshHadamard.Transform(x);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(expected[i] - x[i]) < 1e-5, $"n {n}, element {i}: expected {expected[i]}, got {x[i]}");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Is_orthonormal_applying_it_twice_gives_the_input_and_keeps_the_norm(int n)
    {
        var input = Gaussian(new Random(7 * n), n, 3f);
        var x = (float[])input.Clone();
        WalshHadamard.Transform(x);
        Assert.Equal(Norm(input), Norm(x), 1e-4 * Norm(input));
        if (n > 1) Assert.NotEqual(input, x);
        WalshHadamard.Transform(x);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(input[i] - x[i]) < 1e-5f * (1 + Math.Abs(input[i])), $"n {n}, element {i}: {input[i]} came back as {x[i]}");
    }

    [Fact]
    public void Spreads_one_outlier_channel_evenly_over_the_head()
    {
        var x = new float[32];
        x[5] = 16f;
        WalshHadamard.Transform(x);
        Assert.All(x, v => Assert.Equal(16f / MathF.Sqrt(32), MathF.Abs(v), 1e-5f));
    }

    [Fact]
    public void A_length_that_is_not_a_power_of_two_is_refused()
    {
        Assert.Contains("power-of-two length, got 48", Assert.Throws<ArgumentException>(() => WalshHadamard.Transform(new float[48])).Message);
        Assert.Throws<ArgumentException>(() => WalshHadamard.Transform([]));
        Assert.Contains("power-of-two head size", Assert.Throws<NotSupportedException>(() =>
            new PagedKvStore(1, 4, 16, 1, 48, new KvCacheTypes(KvElementType.F16, KvElementType.F16, RotateKeys: true))).Message);
    }

    [Theory]
    [InlineData(KvElementType.F32, 32, 1e-5)]
    [InlineData(KvElementType.F32, 64, 1e-5)]
    [InlineData(KvElementType.F32, 128, 1e-5)]
    [InlineData(KvElementType.F16, 64, 1e-3)]   // f16 rounds the rotated key, not the key: its own rounding error
    public void Attention_over_rotated_keys_with_rotated_queries_equals_attention_without_rotation(KvElementType keys, int hd, double tolerance)
    {
        const int heads = 4, kvHeads = 2, blockSize = 32, blocks = 24;
        var rng = new Random(hd);
        var seqs = new[] { new AttentionSequence(0, 40, 0, 0), new AttentionSequence(600, 1, 40, 0) };
        var table = Enumerable.Range(0, blocks).OrderBy(_ => rng.Next()).ToArray();
        var k = Gaussian(rng, 601 * kvHeads * hd, 1.5f);
        var v = Gaussian(rng, 601 * kvHeads * hd, 1f);
        var q = Gaussian(rng, 41 * heads * hd, 1f);
        float[] Attend(bool rotate, int threads)
        {
            var store = new PagedKvStore(1, blocks, blockSize, kvHeads, hd, new KvCacheTypes(keys, KvElementType.F32, rotate));
            store.Write(0, table, 0, 601, k, v);
            using var team = new ComputeTeam(threads);
            var kernel = new PagedAttention(heads, kvHeads, hd);
            var output = new float[q.Length];
            int[] tables = [.. table];
            for (int i = 0; i < seqs.Length; i++) // one sequence at a time so the decode runs split (flash-decoding)
            {
                kernel.Plan(seqs.AsSpan(i, 1), threads);
                kernel.Run(team, store.Layer(0), tables, q, output);
            }
            return output;
        }

        var plain = Attend(rotate: false, threads: 1);
        foreach (int threads in new[] { 1, 3 })
        {
            var rotated = Attend(rotate: true, threads);
            for (int i = 0; i < plain.Length; i++)
                Assert.True(Math.Abs(plain[i] - rotated[i]) < tolerance * (1 + Math.Abs(plain[i])), $"{threads} threads, element {i}: {plain[i]} vs {rotated[i]} rotated");
        }
    }

    [Theory]
    [InlineData(KvElementType.Q4_0)]
    [InlineData(KvElementType.Q8_0)]
    public void Rotation_lowers_the_attention_error_of_block_quantized_keys_with_an_outlier_channel(KvElementType keys)
    {
        const int hd = 64, heads = 2, kvHeads = 1, blockSize = 32, positions = 256;
        var rng = new Random(11);
        var k = Gaussian(rng, positions * hd, 1f);
        for (int p = 0; p < positions; p++) k[p * hd + 9] = 12f + k[p * hd + 9];   // one outlier channel, as trained keys have
        var v = Gaussian(rng, positions * hd, 1f);
        var q = Gaussian(rng, positions * heads * hd, 1f);
        int[] table = Enumerable.Range(0, positions / blockSize).ToArray();
        var seq = new[] { new AttentionSequence(0, positions, 0, 0) };
        float[] Attend(KvCacheTypes types)
        {
            var store = new PagedKvStore(1, table.Length, blockSize, kvHeads, hd, types);
            store.Write(0, table, 0, positions, k, v);
            var output = new float[q.Length];
            PagedAttentionReference.Run(seq, store.Layer(0).View, table, q, output, heads);
            return output;
        }

        var exact = Attend(new KvCacheTypes(KvElementType.F32, KvElementType.F32));
        double plain = Rms(exact, Attend(new KvCacheTypes(keys, KvElementType.F32)));
        double rotated = Rms(exact, Attend(new KvCacheTypes(keys, KvElementType.F32, RotateKeys: true)));
        Assert.True(rotated < 0.7 * plain, $"{keys}: rms error {rotated:G4} rotated vs {plain:G4} plain");
    }

    private static double Rms(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (double)(a[i] - b[i]);
        return Math.Sqrt(s / a.Length);
    }

    private static double Norm(float[] x) => Math.Sqrt(x.Sum(v => (double)v * v));

    private static float[] Gaussian(Random rng, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return x;
    }
}
