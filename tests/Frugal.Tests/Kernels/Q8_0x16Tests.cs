using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>The load-time Q8_0 repack (16-row interleaved groups with block sums) and its VNNI kernel against the scalar twin.</summary>
public sealed unsafe class Q8_0x16Tests : IDisposable
{
    private readonly ComputeTeam _team = new(1);

    public void Dispose() => _team.Dispose();

    private static bool Repacks => KernelDispatch.Best == KernelPath.Avx512 && Q8_0x16.IsSupported;

    [Theory]
    [InlineData(16, 1)]
    [InlineData(33, 31)]
    [InlineData(47, 97)]
    public void Repacked_groups_give_back_every_original_block_and_its_sum(int rows, int blocks)
    {
        int cols = blocks * 32;
        Assert.Equal(rows / 16 * blocks * (16 * 34 + 32), Q8_0x16.Bytes(rows, cols));
        RepackedKernelChecks.GivesBackEveryOriginalBlock(GgmlType.Q8_0, rows, cols, seed: rows + blocks, Q8_0x16.Bytes(rows, cols),
            &Q8_0x16.Repack, &Q8_0x16.Unpack, Q8_0x16.GroupBytes(blocks), (g, row, block, original) =>
            {
                int sum = 0;
                foreach (byte q in original[2..])
                    sum += (sbyte)q;
                Assert.Equal(sum, Q8_0x16.QuantSum((byte*)g, row, block));
            });
    }

    [Theory]
    [InlineData(16, 1)]
    [InlineData(33, 31)]
    [InlineData(47, 97)]
    public void Q5_0_widens_to_int8_values_that_dequantize_as_ggml_does(int rows, int blocks)
    {
        int cols = blocks * 32;
        var h = new KernelHarness(GgmlType.Q5_0, rows, cols, seed: rows * 3 + blocks);
        long rowBytes = GgmlTypeInfo.RowBytes(GgmlType.Q5_0, cols);
        var packed = new byte[Q8_0x16.Bytes(rows, cols)];
        var block = new byte[34];
        fixed (byte* dst = packed)
        fixed (byte* b = block)
        {
            Q8_0x16.RepackQ5_0((byte*)h.Matrix.Data, rowBytes, rows, cols, dst);
            for (int r = 0; r < rows / 16 * 16; r++)
                for (int k = 0; k < blocks; k++)
                {
                    byte* g = dst + r / 16 * Q8_0x16.GroupBytes(blocks);
                    Q8_0x16.Unpack(g, blocks, r % 16, k, b);
                    byte* src = (byte*)h.Matrix.Data + r * rowBytes + k * 22;
                    Assert.Equal(*(ushort*)src, *(ushort*)b);
                    float d = (float)BitConverter.UInt16BitsToHalf(*(ushort*)b);
                    int sum = 0;
                    for (int j = 0; j < 32; j++)
                    {
                        sbyte v = (sbyte)b[2 + j];
                        Assert.InRange(v, -16, 15);
                        Assert.Equal(h.Dequantized[r * cols + k * 32 + j], v * d);
                        sum += v;
                    }
                    Assert.Equal(sum, Q8_0x16.QuantSum(g, r % 16, k));
                }
        }
    }

    [Fact]
    public void Extreme_quants_stay_exact_in_the_integer_dot()
    {
        // Every weight -128 or 127 against activations at ±127: the largest sums vpdpbusd and the correction see.
        const int rows = 16, cols = 64;
        var raw = KernelTestData.Weights(GgmlType.Q8_0, rows, cols, seed: 9);
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < 2; k++)
                for (int e = 0; e < 32; e++)
                    raw[r * 68 + k * 34 + 2 + e] = (byte)((r + e) % 3 == 0 ? 0x7F : 0x80);
        var h = KernelHarness.FromBytes(GgmlType.Q8_0, rows, cols, raw);
        var x = new float[cols];
        for (int i = 0; i < cols; i++)
            x[i] = i % 2 == 0 ? 1f : -1f;
        var scalar = h.Run(x, 1, _team, KernelPath.Scalar);
        h.Matrix.PrepareKernelLayout();
        var y = h.Run(x, 1, _team, KernelDispatch.Best);
        var (_, mag) = h.Reference(h.EffectiveActivations(x, 1), 1);
        for (int i = 0; i < rows; i++)
            Assert.True(Math.Abs(y[i] - scalar[i]) <= 2e-5 * mag[i] + 1e-6, $"output {i}: {y[i]} vs scalar {scalar[i]}");
    }

    [Theory]
    [InlineData(16, GgmlType.Q8_0)]
    [InlineData(33, GgmlType.Q8_0)] // two groups and one row in the original layout
    [InlineData(47, GgmlType.Q8_0)]
    [InlineData(16, GgmlType.Q5_0)]
    [InlineData(33, GgmlType.Q5_0)]
    [InlineData(47, GgmlType.Q5_0)]
    public void Repacked_kernel_matches_the_scalar_twin_at_tail_sizes(int rows, GgmlType type)
    {
        foreach (int blocks in new[] { 1, 31, 33, 97 })
            foreach (int n in new[] { 1, 3, 8, 13 })
            {
                int cols = blocks * 32;
                RepackedKernelChecks.MatchesScalarTwin(type, rows, cols, n, seed: rows * 7 + blocks + n,
                    activationSeed: blocks * 3 + n, _team, expectedBytes: Repacks ? Q8_0x16.Bytes(rows, cols) : 0, $"blocks {blocks}");
            }
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q5_0)]
    public void Repacked_batched_rows_give_bit_identical_results_to_one_row_at_a_time(GgmlType type)
    {
        RepackedKernelChecks.BatchedEqualsOneAtATime(type, rows: 33, cols: 33 * 32, n: 11, _team);
    }
}
