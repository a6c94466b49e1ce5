using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>The checks every load-time repacked layout (Q4_0x16, Q4_Kx16, Q6_Kx16, Q8_0x16) must pass, shared by their tests.</summary>
internal static unsafe class RepackedKernelChecks
{
    /// <summary>
    /// Unpack(Repack(w)) gives back every block of every row in a whole group, byte for byte, and the copy is
    /// <paramref name="expectedBytes"/> long. <paramref name="check"/>, when given, sees each group, row and block too.
    /// </summary>
    public static void GivesBackEveryOriginalBlock(GgmlType type, int rows, int cols, int seed, long expectedBytes,
        delegate*<byte*, long, int, int, byte*, void> repack, delegate*<byte*, int, int, int, byte*, void> unpack,
        long groupBytes, Action<nint, int, int, byte[]>? check = null)
    {
        var w = KernelTestData.Weights(type, rows, cols, seed);
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        int blockBytes = GgmlTypeInfo.TypeSize(type), blocks = cols / GgmlTypeInfo.BlockSize(type);
        var packed = new byte[expectedBytes];
        var block = new byte[blockBytes];
        fixed (byte* src = w)
        fixed (byte* dst = packed)
        fixed (byte* b = block)
        {
            repack(src, rowBytes, rows, cols, dst);
            for (int r = 0; r < rows / 16 * 16; r++)
                for (int k = 0; k < blocks; k++)
                {
                    byte* g = dst + r / 16 * groupBytes;
                    unpack(g, blocks, r % 16, k, b);
                    var original = w.AsSpan((int)(r * rowBytes + k * blockBytes), blockBytes);
                    Assert.True(block.AsSpan().SequenceEqual(original), $"row {r} block {k}");
                    check?.Invoke((nint)g, r % 16, k, original.ToArray());
                }
        }
    }

    /// <summary>
    /// The repacked kernel agrees with the scalar twin (which still reads the original blocks), and rows past the last
    /// 16-row group are bit-identical to before the repack. <paramref name="expectedBytes"/>: what PrepareKernelLayout
    /// must report, or null not to check it.
    /// </summary>
    public static void MatchesScalarTwin(GgmlType type, int rows, int cols, int n, int seed, int activationSeed,
        ComputeTeam team, long? expectedBytes, string label)
    {
        var h = new KernelHarness(type, rows, cols, seed);
        var x = KernelTestData.Activations(n, cols, activationSeed);
        var scalar = h.Run(x, n, team, KernelPath.Scalar);
        var before = h.Run(x, n, team, KernelDispatch.Best);
        long added = h.Matrix.PrepareKernelLayout();
        if (expectedBytes is long bytes) Assert.Equal(bytes, added);
        var (_, mag) = h.Reference(h.EffectiveActivations(x, n), n);
        var y = h.Run(x, n, team, KernelDispatch.Best);
        Assert.Equal(scalar, h.Run(x, n, team, KernelPath.Scalar)); // the twin still reads the original blocks
        Assert.Contains(scalar, v => Math.Abs(v) > 1e-2);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(Math.Abs(y[i] - scalar[i]) <= 2e-5 * mag[i] + 1e-6,
                $"rows {rows} {label} n {n} output {i}: {y[i]} vs scalar {scalar[i]} (scale {mag[i]})");
            // Rows past the last group keep the original kernel: bit-identical to before the repack.
            if (i % rows >= rows / 16 * 16)
                Assert.Equal(before[i], y[i]);
        }
        h.Matrix.Dispose();
    }

    /// <summary>A column's results do not depend on the batch it sits in: n columns on two threads = each alone, bit for bit.</summary>
    public static void BatchedEqualsOneAtATime(GgmlType type, int rows, int cols, int n, ComputeTeam single)
    {
        var h = new KernelHarness(type, rows, cols, seed: 41);
        h.Matrix.PrepareKernelLayout();
        var x = KernelTestData.Activations(n, cols, seed: 42);
        using var two = new ComputeTeam(2);
        var batched = h.Run(x, n, two, KernelDispatch.Best);
        for (int i = 0; i < n; i++)
        {
            var one = h.Run(x.AsSpan(i * cols, cols).ToArray(), 1, single, KernelDispatch.Best);
            for (int r = 0; r < rows; r++)
                Assert.True(one[r] == batched[i * rows + r], $"row {i} output {r}: alone {one[r]}, batched {batched[i * rows + r]}");
        }
    }
}
