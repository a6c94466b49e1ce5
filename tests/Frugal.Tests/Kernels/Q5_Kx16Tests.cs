using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>The load-time Q5_K repack (16-row interleaved groups) and its AVX-512 kernel against the scalar twin.</summary>
public sealed unsafe class Q5_Kx16Tests : IDisposable
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
        long rowBytes = GgmlTypeInfo.RowBytes(GgmlType.Q5_K, cols);
        Assert.Equal(rows / 16 * 16 * rowBytes, Q5_Kx16.Bytes(rows, cols)); // moved, not changed: no padding, no extra bytes
        RepackedKernelChecks.GivesBackEveryOriginalBlock(GgmlType.Q5_K, rows, cols, seed: rows + superBlocks, Q5_Kx16.Bytes(rows, cols),
            &Q5_Kx16.Repack, &Q5_Kx16.Unpack, Q5_Kx16.GroupBytes(superBlocks));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(33)] // two groups and one row in the original layout
    [InlineData(47)]
    public void Repacked_kernel_matches_the_scalar_twin_at_tail_sizes(int rows)
    {
        foreach (int superBlocks in new[] { 1, 3, 13 })
            foreach (int n in new[] { 1, 3, 4, 5, 13 })
            {
                int cols = superBlocks * 256;
                RepackedKernelChecks.MatchesScalarTwin(GgmlType.Q5_K, rows, cols, n, seed: rows * 7 + superBlocks + n,
                    activationSeed: superBlocks * 3 + n, _team,
                    expectedBytes: KernelDispatch.Best == KernelPath.Avx512 ? Q5_Kx16.Bytes(rows, cols) : 0, $"super-blocks {superBlocks}");
            }
    }

    [Fact]
    public void Repacked_batched_rows_give_bit_identical_results_to_one_row_at_a_time()
    {
        RepackedKernelChecks.BatchedEqualsOneAtATime(GgmlType.Q5_K, rows: 33, cols: 3 * 256, n: 11, _team);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(-1f)]
    public void Largest_nibbles_against_full_scale_activations_do_not_saturate_the_int16_sums(float value)
    {
        // Every nibble 15 and every fifth bit set (values 31), every scale and min 63, every activation equal, which
        // Q8_K quantizes to -128 (the largest magnitude maps to -128 whatever its sign): each int16 half of the kernel's
        // sums over 4 chunks reaches 4·2·31·128 = 31744, the most the layout allows (8 chunks would saturate).
        const int rows = 17, cols = 512;
        var w = KernelTestData.Weights(GgmlType.Q5_K, rows, cols, seed: 9);
        for (int b = 0; b < rows * cols / 256; b++)
            w.AsSpan(b * 176 + 4, 172).Fill(0xFF);
        var h = KernelHarness.FromBytes(GgmlType.Q5_K, rows, cols, w);
        var x = Enumerable.Repeat(value, 3 * cols).ToArray();
        var scalar = h.Run(x, 3, _team, KernelPath.Scalar);
        h.Matrix.PrepareKernelLayout();
        var y = h.Run(x, 3, _team, KernelDispatch.Best);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(Math.Abs(scalar[i]) > 1, $"output {i}: {scalar[i]}");
            Assert.True(Math.Abs(y[i] - scalar[i]) <= 1e-5 * Math.Abs(scalar[i]), $"output {i}: {y[i]} vs scalar {scalar[i]}");
        }
        h.Matrix.Dispose();
    }
}
