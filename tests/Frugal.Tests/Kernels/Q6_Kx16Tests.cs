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
        long rowBytes = GgmlTypeInfo.RowBytes(GgmlType.Q6_K, cols);
        Assert.Equal(rows / 16 * (16 * rowBytes + 32 * superBlocks), Q6_Kx16.Bytes(rows, cols)); // 32 bytes of padding per unit
        RepackedKernelChecks.GivesBackEveryOriginalBlock(GgmlType.Q6_K, rows, cols, seed: rows + superBlocks, Q6_Kx16.Bytes(rows, cols),
            &Q6_Kx16.Repack, &Q6_Kx16.Unpack, Q6_Kx16.GroupBytes(superBlocks));
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
                RepackedKernelChecks.MatchesScalarTwin(GgmlType.Q6_K, rows, cols, n, seed: rows * 7 + superBlocks + n,
                    activationSeed: superBlocks * 3 + n, _team,
                    expectedBytes: KernelDispatch.Best == KernelPath.Avx512 ? Q6_Kx16.Bytes(rows, cols) : 0, $"super-blocks {superBlocks}");
            }
    }

    [Fact]
    public void Repacked_batched_rows_give_bit_identical_results_to_one_row_at_a_time()
    {
        RepackedKernelChecks.BatchedEqualsOneAtATime(GgmlType.Q6_K, rows: 33, cols: 3 * 256, n: 11, _team);
    }
}
