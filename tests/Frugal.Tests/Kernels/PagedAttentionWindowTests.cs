using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>
/// The paged attention kernel's sliding window, soft-cap and query scale against its scalar twin: prefill chunks,
/// decodes deep in the cache (split across threads), windows narrower than a tile, a block, or wider than the history.
/// </summary>
public sealed class PagedAttentionWindowTests
{
    private const int BlockSize = 32, Blocks = 40, Hd = 48, Heads = 4, KvHeads = 2;

    public static TheoryData<int, float, float> Settings() => new()
    {
        // window, soft-cap, scale (0: 1/sqrt(head size))
        { 1, 0f, 0f },
        { 16, 0f, 0f },
        { 33, 3f, 0f },
        { 100, 0f, 0.1f },
        { 100, 2.5f, 0.2f },
        { 300, 0f, 0f },   // a decode's keys split across threads, the window starting mid-chunk
        { 4096, 0f, 0f },
        { 0, 4f, 0.125f },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public unsafe void Matches_the_scalar_twin_and_never_reads_keys_before_the_window(int window, float softCap, float scale)
    {
        var store = new PagedKvStore(1, Blocks, BlockSize, KvHeads, Hd);
        var rng = new Random(window * 7 + (int)(softCap * 10));
        var seqs = new[] { (Start: 0, Count: 40), (Start: 33, Count: 20), (Start: 700, Count: 1), (Start: 0, Count: 1), (Start: 150, Count: 70), (Start: 600, Count: 20) };
        foreach (var (start, count) in seqs)
        {
            int end = start + count, need = (end + BlockSize - 1) / BlockSize;
            var table = Enumerable.Range(0, Blocks).OrderBy(_ => rng.Next()).Take(need).ToArray();
            var keys = Gaussian(rng, end * KvHeads * Hd, 1.5f);
            var values = Gaussian(rng, end * KvHeads * Hd, 1.0f);
            // Positions before the first row's window, up to its first tile, are poison: reading one spoils the output.
            int unread = window > 0 ? Math.Max(0, start - window + 1) / KvTile.Positions * KvTile.Positions : 0;
            Array.Fill(keys, float.NaN, 0, unread * KvHeads * Hd);
            Array.Fill(values, float.NaN, 0, unread * KvHeads * Hd);
            store.Write(0, table, 0, end, keys, values);

            var one = new[] { new AttentionSequence(start, count, 0, 0) };
            var q = Gaussian(rng, count * Heads * Hd, 1.0f);
            var expected = new float[count * Heads * Hd];
            PagedAttentionReference.Run(one, store.Layer(0).View, table, q, expected, Heads, scale, softCap, window);
            foreach (int threads in new[] { 1, 3 })
            {
                using var team = new ComputeTeam(threads);
                var kernel = new PagedAttention(Heads, KvHeads, Hd, scale, softCap);
                kernel.Plan(one, threads, window);
                var actual = new float[expected.Length];
                fixed (int* t = table)
                fixed (float* qp = q, op = actual)
                    kernel.Run(team, store.Layer(0).View, t, qp, op);
                for (int i = 0; i < actual.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5f * (1 + Math.Abs(expected[i])),
                        $"start {start}, count {count}, {threads} threads, element {i}: expected {expected[i]}, got {actual[i]}");
            }
        }
    }

    [Fact]
    public void A_window_of_the_whole_history_changes_nothing_and_a_narrow_one_does()
    {
        var store = new PagedKvStore(1, Blocks, BlockSize, KvHeads, Hd);
        var rng = new Random(5);
        int[] table = [.. Enumerable.Range(0, 8)];
        store.Write(0, table, 0, 200, Gaussian(rng, 200 * KvHeads * Hd, 1.5f), Gaussian(rng, 200 * KvHeads * Hd, 1f));
        var seq = new[] { new AttentionSequence(150, 50, 0, 0) };
        var q = Gaussian(rng, 50 * Heads * Hd, 1f);
        float[] Run(int window)
        {
            var output = new float[q.Length];
            using var team = new ComputeTeam(2);
            var kernel = new PagedAttention(Heads, KvHeads, Hd);
            kernel.Plan(seq, 2, window);
            kernel.Run(team, store.Layer(0), table, q, output);
            return output;
        }
        var all = Run(0);
        Assert.Equal(all, Run(200));
        Assert.NotEqual(all, Run(64));
    }

    [Fact]
    public void Negative_settings_are_refused_with_their_name()
    {
        Assert.Equal("window", Assert.Throws<ArgumentOutOfRangeException>(() => new PagedAttention(4, 2, 48).Plan([new AttentionSequence(0, 1, 0, 0)], 1, -1)).ParamName);
        Assert.Equal("softCap", Assert.Throws<ArgumentOutOfRangeException>(() => new PagedAttention(4, 2, 48, softCap: -1f)).ParamName);
        Assert.Equal("scale", Assert.Throws<ArgumentOutOfRangeException>(() => new PagedAttention(4, 2, 48, scale: float.NaN)).ParamName);
    }

    private static float[] Gaussian(Random rng, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return x;
    }
}
