using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>
/// Speculative verification evaluates 1 + k rows of a sequence in one step where plain decode evaluates them one at a
/// time; greedy output is only identical if every row's attention is bit for bit the same either way. Rows here cross a
/// softmax chunk boundary (<see cref="PagedAttention.ChunkPositions"/>), a KV block, a sliding window's edge and the
/// soft-cap, with and without grouped queries.
/// </summary>
public sealed class PagedAttentionRowInvarianceTests
{
    [Theory]
    [InlineData(32, 4, 2, 64, 9, 0, 0f)]      // the built-in model's shape, a verify step after a 64-token prefix
    [InlineData(32, 4, 2, 120, 9, 0, 0f)]     // rows 120..128 straddle the chunk boundary at 128
    [InlineData(64, 14, 2, 250, 7, 0, 0f)]    // Qwen2.5-0.5B's grouping, past one chunk
    [InlineData(32, 4, 2, 140, 9, 20, 0f)]    // a sliding window whose start moves through a tile
    [InlineData(16, 2, 1, 300, 5, 0, 30f)]    // soft-capped scores (Gemma 2)
    [InlineData(6, 4, 2, 37, 3, 0, 0f)]       // a head no vector width divides
    public unsafe void Each_row_of_a_step_equals_the_row_evaluated_alone(int hd, int heads, int kvHeads, int start, int count, int window, float softCap)
    {
        const int blockSize = 32;
        int blocks = (start + count + blockSize - 1) / blockSize;
        var store = new PagedKvStore(1, blocks + 3, blockSize, kvHeads, hd);
        var rng = new Random(start * 7 + hd);
        var table = Enumerable.Range(0, blocks + 3).OrderBy(_ => rng.Next()).Take(blocks).ToArray();
        int n = start + count;
        store.Write(0, table, 0, n, Random(rng, n * kvHeads * hd, 1.5f), Random(rng, n * kvHeads * hd, 1f));
        int qDim = heads * hd;
        var q = Random(rng, count * qDim, 1f);

        var together = Run(heads, kvHeads, hd, softCap, window, store, table, new AttentionSequence(start, count, 0, 0), q);
        for (int i = 0; i < count; i++)
        {
            var alone = Run(heads, kvHeads, hd, softCap, window, store, table, new AttentionSequence(start + i, 1, 0, 0), q[(i * qDim)..((i + 1) * qDim)]);
            for (int d = 0; d < qDim; d++)
                Assert.True(BitConverter.SingleToInt32Bits(alone[d]) == BitConverter.SingleToInt32Bits(together[i * qDim + d]),
                    $"row {i} (position {start + i}), element {d}: alone {alone[d]:R}, in a step of {count} {together[i * qDim + d]:R}");
        }
        Assert.Contains(together, x => x != 0);
    }

    private static unsafe float[] Run(int heads, int kvHeads, int hd, float softCap, int window, PagedKvStore store, int[] table, AttentionSequence seq, float[] q)
    {
        using var team = new ComputeTeam(1);
        var kernel = new PagedAttention(heads, kvHeads, hd, softCap: softCap);
        kernel.Plan([seq], 1, window);
        var output = new float[seq.Count * heads * hd];
        fixed (int* t = table)
        fixed (float* qp = q, op = output)
            kernel.Run(team, store.Layer(0).View, t, qp, op);
        return output;
    }

    private static float[] Random(Random rng, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = scale * (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
