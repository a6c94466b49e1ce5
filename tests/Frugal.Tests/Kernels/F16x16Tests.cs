using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>The load-time F16 repack (16-row groups, element-major) and its FMA kernel against the scalar twin.</summary>
public sealed unsafe class F16x16Tests : IDisposable
{
    private readonly ComputeTeam _team = new(1);

    public void Dispose() => _team.Dispose();

    private static bool Repacks => WeightTypes.Find(GgmlType.F16)!.Repacks(KernelDispatch.Best);

    [Theory]
    [InlineData(16, 1)]
    [InlineData(33, 96)]
    [InlineData(47, 130)]
    public void Repacked_groups_hold_every_row_element_at_its_lane(int rows, int cols)
    {
        var w = KernelTestData.Weights(GgmlType.F16, rows, cols, seed: rows + cols);
        Assert.Equal(rows / 16 * 16 * cols * 2, F16x16.Bytes(rows, cols));
        var packed = new byte[F16x16.Bytes(rows, cols)];
        fixed (byte* src = w)
        fixed (byte* dst = packed)
        {
            F16x16.Repack(src, cols * 2, rows, cols, dst);
            for (int r = 0; r < rows / 16 * 16; r++)
                for (int k = 0; k < cols; k++)
                {
                    ushort* g = (ushort*)(dst + r / 16 * F16x16.GroupBytes(cols));
                    Assert.Equal(((ushort*)src)[r * cols + k], g[k * 16 + r % 16]);
                }
        }
    }

    [Theory]
    [InlineData(16, 32, 1)]
    [InlineData(33, 96, 1)]
    [InlineData(47, 128, 3)]
    [InlineData(64, 128, 8)]
    [InlineData(47, 130, 9)]
    [InlineData(32, 384, 21)]
    [InlineData(80, 128, 1)]
    [InlineData(113, 64, 2)]
    public void Repacked_kernel_matches_the_scalar_twin(int rows, int cols, int n) =>
        RepackedKernelChecks.MatchesScalarTwin(GgmlType.F16, rows, cols, n, seed: rows * 7 + cols, activationSeed: n,
            _team, Repacks ? rows / 16 * 16 * cols * 2 : 0, "f16");

    [Theory]
    [InlineData(48, 128, 19)]
    [InlineData(33, 96, 5)]
    [InlineData(80, 128, 2)]
    [InlineData(113, 64, 9)]
    public void A_column_gives_the_same_bits_alone_and_in_a_batch(int rows, int cols, int n) =>
        RepackedKernelChecks.BatchedEqualsOneAtATime(GgmlType.F16, rows, cols, n, _team);
}
