using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>The load-time Q6_K repack (16-row interleaved groups) and its AVX-512 kernel against the scalar twin.</summary>
public sealed unsafe class Q6_Kx16Tests : IDisposable
{
    private readonly ComputeTeam _team = new(1);

    public void Dispose() => _team.Dispose();

    [Theory]
    [InlineData(16, 1)]
    [InlineData(33, 3)]
    [InlineData(47, 13)]
    public void Repacked_groups_give_back_every_original_block(int rows, int superBlocks)
    {
        int cols = superBlocks * 256;
        var w = KernelTestData.Weights(GgmlType.Q6_K, rows, cols, seed: rows + superBlocks);
        long rowBytes = GgmlTypeInfo.RowBytes(GgmlType.Q6_K, cols);
        var packed = new byte[Q6_Kx16.Bytes(rows, cols)];
        Assert.Equal(rows / 16 * (16 * rowBytes + 32 * superBlocks), packed.Length); // 32 bytes of padding per unit
        var block = new byte[210];
        fixed (byte* src = w)
        fixed (byte* dst = packed)
        fixed (byte* b = block)
        {
            Q6_Kx16.Repack(src, rowBytes, rows, cols, dst);
            for (int r = 0; r < rows / 16 * 16; r++)
                for (int s = 0; s < superBlocks; s++)
                {
                    Q6_Kx16.Unpack(dst + r / 16 * Q6_Kx16.GroupBytes(superBlocks), superBlocks, r % 16, s, b);
                    Assert.True(block.AsSpan().SequenceEqual(w.AsSpan((int)(r * rowBytes + s * 210), 210)), $"row {r} super-block {s}");
                }
        }
    }

    [Fact]
    public void Every_byte_of_a_block_has_one_chunk()
    {
        var sources = Enumerable.Range(0, 48).Select(Q6_Kx16.ChunkSource).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 48).Select(c => 4 * c), sources);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(33)] // two groups and one row in the original layout
    [InlineData(47)]
    public void Repacked_kernel_matches_the_scalar_twin_at_tail_sizes(int rows)
    {
        foreach (int superBlocks in new[] { 1, 3, 13 })
            foreach (int n in new[] { 1, 3, 8, 13 })
            {
                int cols = superBlocks * 256;
                var h = new KernelHarness(GgmlType.Q6_K, rows, cols, seed: rows * 7 + superBlocks + n);
                var x = KernelTestData.Activations(n, cols, seed: superBlocks * 3 + n);
                var scalar = h.Run(x, n, _team, KernelPath.Scalar);
                var before = h.Run(x, n, _team, KernelDispatch.Best);
                long added = h.Matrix.PrepareKernelLayout();
                Assert.Equal(KernelDispatch.Best == KernelPath.Avx512 ? Q6_Kx16.Bytes(rows, cols) : 0, added);
                var (_, mag) = h.Reference(h.EffectiveActivations(x, n), n);
                var y = h.Run(x, n, _team, KernelDispatch.Best);
                Assert.Equal(scalar, h.Run(x, n, _team, KernelPath.Scalar)); // the twin still reads the original blocks
                Assert.Contains(scalar, v => Math.Abs(v) > 1e-2);
                for (int i = 0; i < y.Length; i++)
                {
                    Assert.True(Math.Abs(y[i] - scalar[i]) <= 2e-5 * mag[i] + 1e-6,
                        $"rows {rows} super-blocks {superBlocks} n {n} output {i}: {y[i]} vs scalar {scalar[i]} (scale {mag[i]})");
                    if (i % rows >= rows / 16 * 16)
                        Assert.Equal(before[i], y[i]);
                }
                h.Matrix.Dispose();
            }
    }

    [Fact]
    public void Repacked_batched_rows_give_bit_identical_results_to_one_row_at_a_time()
    {
        const int n = 11, rows = 33, cols = 3 * 256;
        var h = new KernelHarness(GgmlType.Q6_K, rows, cols, seed: 41);
        h.Matrix.PrepareKernelLayout();
        var x = KernelTestData.Activations(n, cols, seed: 42);
        using var two = new ComputeTeam(2);
        var batched = h.Run(x, n, two, KernelDispatch.Best);
        for (int i = 0; i < n; i++)
        {
            var one = h.Run(x.AsSpan(i * cols, cols).ToArray(), 1, _team, KernelDispatch.Best);
            for (int r = 0; r < rows; r++)
                Assert.True(one[r] == batched[i * rows + r], $"row {i} output {r}: alone {one[r]}, batched {batched[i * rows + r]}");
        }
    }
}
