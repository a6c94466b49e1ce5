using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>The IQ4_NL and IQ4_XS load-time repacks (16-row interleaved groups) and their AVX-512 VNNI kernels against the scalar twin.</summary>
public sealed unsafe class IQ4x16Tests : IDisposable
{
    private readonly ComputeTeam _team = new(1);

    public void Dispose() => _team.Dispose();

    private static bool Repacks(GgmlType type) => WeightTypes.Find(type)!.Repacks(KernelDispatch.Best);

    [Theory]
    [InlineData(GgmlType.IQ4_NL)]
    [InlineData(GgmlType.IQ4_XS)]
    public void Repacked_only_on_avx512_with_vnni_and_only_whole_groups(GgmlType type)
    {
        int cols = GgmlTypeInfo.BlockSize(type) * 3;
        var h = new KernelHarness(type, rows: 33, cols, seed: 1);
        bool expected = KernelDispatch.Best == KernelPath.Avx512 && IQ4_NLx16Avx512.IsSupported;
        Assert.Equal(expected, Repacks(type));
        long bytes = type == GgmlType.IQ4_NL ? Q4_0x16.Bytes(33, cols) : IQ4_XSx16.Bytes(33, cols);
        Assert.Equal(expected ? bytes : 0, h.Matrix.PrepareKernelLayout());
        Assert.Equal(0, new KernelHarness(type, rows: 15, cols, seed: 2).Matrix.PrepareKernelLayout());
        h.Matrix.Dispose();
    }

    [Theory]
    [InlineData(16, 1)]
    [InlineData(33, 3)]
    [InlineData(47, 13)]
    public void Iq4_xs_repacked_groups_give_back_every_original_block(int rows, int superBlocks)
    {
        int cols = superBlocks * 256;
        Assert.Equal(rows / 16 * 16 * GgmlTypeInfo.RowBytes(GgmlType.IQ4_XS, cols), IQ4_XSx16.Bytes(rows, cols));
        RepackedKernelChecks.GivesBackEveryOriginalBlock(GgmlType.IQ4_XS, rows, cols, seed: rows + superBlocks, IQ4_XSx16.Bytes(rows, cols),
            &IQ4_XSx16.Repack, &IQ4_XSx16.Unpack, IQ4_XSx16.GroupBytes(superBlocks));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(33)] // two groups and one row in the original layout
    public void Iq4_nl_repacked_kernel_matches_the_scalar_twin_at_tail_sizes(int rows)
    {
        foreach (int blocks in new[] { 1, 31, 33, 97 })
            foreach (int n in new[] { 1, 3, 4, 7, 13 })
                RepackedKernelChecks.MatchesScalarTwin(GgmlType.IQ4_NL, rows, blocks * 32, n, seed: rows * 7 + blocks + n,
                    activationSeed: blocks * 3 + n, _team, expectedBytes: null, $"blocks {blocks}");
    }

    [Theory]
    [InlineData(16)]
    [InlineData(47)] // two groups and 15 rows in the original layout
    public void Iq4_xs_repacked_kernel_matches_the_scalar_twin_at_tail_sizes(int rows)
    {
        foreach (int superBlocks in new[] { 1, 3, 13 })
            foreach (int n in new[] { 1, 3, 4, 7, 13 })
                RepackedKernelChecks.MatchesScalarTwin(GgmlType.IQ4_XS, rows, superBlocks * 256, n, seed: rows * 7 + superBlocks + n,
                    activationSeed: superBlocks * 3 + n, _team, expectedBytes: null, $"super-blocks {superBlocks}");
    }

    [Theory]
    [InlineData(GgmlType.IQ4_NL, 33 * 32)]
    [InlineData(GgmlType.IQ4_XS, 3 * 256)]
    public void Repacked_batched_rows_give_bit_identical_results_to_one_row_at_a_time(GgmlType type, int cols)
    {
        RepackedKernelChecks.BatchedEqualsOneAtATime(type, rows: 33, cols, n: 11, _team);
    }
}
