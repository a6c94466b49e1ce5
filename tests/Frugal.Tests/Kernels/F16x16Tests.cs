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
    [InlineData(48, 64, 6)]
    [InlineData(33, 40, 7)]
    [InlineData(47, 130, 9)]
    [InlineData(49, 128, 13)]
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
    [InlineData(80, 128, 12)]   // two wide passes of 6
    [InlineData(48, 128, 16)]   // two wide passes of 8
    public void A_column_gives_the_same_bits_alone_and_in_a_batch(int rows, int cols, int n) =>
        RepackedKernelChecks.BatchedEqualsOneAtATime(GgmlType.F16, rows, cols, n, _team);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(9)]
    public void Subnormal_zero_and_extreme_weights_give_the_bits_of_an_fma_chain_over_widened_weights_when_repacked(int n)
    {
        // The kernel reads each weight as w * 2^-112 and scales the activations by 2^112; both are exact, so every
        // output must equal the chain fma(w_k, x_k, acc) over the exactly widened weights and fp16-rounded activations.
        const int rows = 48, cols = 40;
        ushort[] special = [0x0001, 0x8001, 0x03FF, 0x83FF, 0x0000, 0x8000, 0x0400, 0x7BFF, 0xFBFF, 0x3C00, 0xB555];
        var rng = new Random(11);
        var w = new Half[rows * cols];
        for (int i = 0; i < w.Length; i++)
            w[i] = i % 3 == 0 ? BitConverter.UInt16BitsToHalf(special[rng.Next(special.Length)]) : (Half)(rng.NextSingle() * 2 - 1);
        var x = new float[n * cols];
        for (int i = 0; i < x.Length; i++) x[i] = i % 7 == 0 ? 6e-6f * (i % 2 == 0 ? 1 : -1) : (rng.NextSingle() * 4 - 2);
        var y = new float[n * rows];
        fixed (Half* wp = w)
        {
            using var m = new WeightMatrix(GgmlType.F16, (nint)wp, rows, cols, "special");
            m.PrepareKernelLayout();
            m.Multiply(x, y, n, _team, KernelDispatch.Best);
        }
        for (int c = 0; c < n; c++)
            for (int r = 0; r < rows; r++)
            {
                float acc = 0, mag = 0;
                for (int k = 0; k < cols; k++)
                {
                    acc = MathF.FusedMultiplyAdd((float)w[r * cols + k], (float)(Half)x[c * cols + k], acc);
                    mag += Math.Abs((float)w[r * cols + k] * (float)(Half)x[c * cols + k]);
                }
                if (Repacks)
                    Assert.True(BitConverter.SingleToInt32Bits(acc) == BitConverter.SingleToInt32Bits(y[c * rows + r]), $"column {c} row {r}: {y[c * rows + r]} != {acc}");
                else // the row kernels of the other paths sum in their own lane order
                    Assert.True(Math.Abs(acc - y[c * rows + r]) <= 1e-6f * (1 + mag), $"column {c} row {r}: {y[c * rows + r]} vs {acc}");
            }
    }
}
