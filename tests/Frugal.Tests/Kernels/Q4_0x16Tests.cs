using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>The load-time Q4_0 repack (16-row interleaved groups) and its AVX-512 kernel against the scalar twin.</summary>
public sealed unsafe class Q4_0x16Tests : IDisposable
{
    private readonly ComputeTeam _team = new(1);

    public void Dispose() => _team.Dispose();

    private static bool Repacks => KernelDispatch.Best == KernelPath.Avx512;

    [Theory]
    [InlineData(16, 1)]
    [InlineData(33, 31)]
    [InlineData(47, 97)]
    public void Repacked_groups_give_back_every_original_block(int rows, int blocks)
    {
        int cols = blocks * 32;
        long rowBytes = GgmlTypeInfo.RowBytes(GgmlType.Q4_0, cols);
        Assert.Equal(rows / 16 * 16 * rowBytes + (blocks % 2) * (rows / 16) * 16 * 18, Q4_0x16.Bytes(rows, cols));
        RepackedKernelChecks.GivesBackEveryOriginalBlock(GgmlType.Q4_0, rows, cols, seed: rows + blocks, Q4_0x16.Bytes(rows, cols),
            &Q4_0x16.Repack, &Q4_0x16.Unpack, Q4_0x16.GroupBytes(blocks));
    }

    [Fact]
    public void Only_the_repacked_types_on_the_avx512_path_with_a_whole_group_are_repacked()
    {
        var q4 = new KernelHarness(GgmlType.Q4_0, rows: 33, 64, seed: 1).Matrix;
        Assert.Equal(Repacks ? 2 * 16 * 2 * 18 : 0, q4.PrepareKernelLayout());
        Assert.Equal(Repacks ? 2 * 16 * 2 * 18 : 0, q4.KernelLayoutBytes);
        Assert.Equal(0, q4.PrepareKernelLayout()); // once
        Assert.Equal(0, new KernelHarness(GgmlType.Q4_0, rows: 15, 64, seed: 2).Matrix.PrepareKernelLayout());
        Assert.Equal(Repacks && Q8_0x16.IsSupported ? 2 * 2 * 576 : 0, new KernelHarness(GgmlType.Q8_0, rows: 33, 64, seed: 3).Matrix.PrepareKernelLayout());
        Assert.Equal(Repacks ? 2 * 16 * 144 : 0, new KernelHarness(GgmlType.Q4_K, rows: 33, 256, seed: 3).Matrix.PrepareKernelLayout());
        Assert.Equal(Repacks ? 2 * 16 * 176 : 0, new KernelHarness(GgmlType.Q5_K, rows: 33, 256, seed: 3).Matrix.PrepareKernelLayout());
        Assert.Equal(0, new KernelHarness(GgmlType.Q3_K, rows: 33, 256, seed: 3).Matrix.PrepareKernelLayout());
        q4.Dispose();
        Assert.Equal(0, q4.KernelLayoutBytes);
    }

    [Fact]
    public void Repacking_reports_each_copied_slice_of_original_rows_once()
    {
        const int rows = 4096 + 16 + 3; // one full slice of 256 groups, one of a single group, 3 rows left as they are
        var h = new KernelHarness(GgmlType.Q4_0, rows, 32, seed: 5);
        var slices = new List<(nint Start, long Bytes)>();
        h.Matrix.PrepareKernelLayout((p, bytes) => slices.Add((p, bytes)));
        if (!Repacks)
        {
            Assert.Empty(slices);
            return;
        }
        Assert.Equal([(h.Matrix.Data, 4096 * 18L), (h.Matrix.Data + 4096 * 18, 16 * 18L)], slices);
        var x = KernelTestData.Activations(1, 32, seed: 6);
        var scalar = h.Run(x, 1, _team, KernelPath.Scalar);
        var (_, mag) = h.Reference(h.EffectiveActivations(x, 1), 1);
        var y = h.Run(x, 1, _team, KernelDispatch.Best);
        for (int i = 0; i < rows; i++)
            Assert.True(Math.Abs(y[i] - scalar[i]) <= 2e-5 * mag[i] + 1e-6, $"output {i}: {y[i]} vs scalar {scalar[i]}");
    }

    [Theory]
    [InlineData(16)]
    [InlineData(33)] // two groups and one row in the original layout
    [InlineData(47)]
    public void Repacked_kernel_matches_the_scalar_twin_at_tail_sizes(int rows)
    {
        foreach (int blocks in new[] { 1, 31, 33, 97 })
            foreach (int n in new[] { 1, 3, 8, 13 })
            {
                int cols = blocks * 32;
                RepackedKernelChecks.MatchesScalarTwin(GgmlType.Q4_0, rows, cols, n, seed: rows * 7 + blocks + n,
                    activationSeed: blocks * 3 + n, _team, expectedBytes: null, $"blocks {blocks}");
            }
    }

    [Fact]
    public void Repacked_batched_rows_give_bit_identical_results_to_one_row_at_a_time()
    {
        RepackedKernelChecks.BatchedEqualsOneAtATime(GgmlType.Q4_0, rows: 33, cols: 33 * 32, n: 11, _team);
    }
}
