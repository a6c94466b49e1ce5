using System.Runtime.InteropServices;
using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>A weight matrix over pinned test bytes, plus the f32 oracle of what its product should be.</summary>
internal sealed unsafe class KernelHarness
{
    private readonly byte[] _pinned;

    public KernelHarness(GgmlType type, int rows, int cols, int seed)
        : this(type, rows, cols, KernelTestData.Weights(type, rows, cols, seed))
    {
    }

    private KernelHarness(GgmlType type, int rows, int cols, byte[] bytes)
    {
        Type = type;
        Rows = rows;
        Cols = cols;
        _pinned = GC.AllocateUninitializedArray<byte>(bytes.Length + 1, pinned: true);
        bytes.CopyTo(_pinned, 0);
        Matrix = new WeightMatrix(type, Marshal.UnsafeAddrOfPinnedArrayElement(_pinned, 0), rows, cols, $"test.{type}");
        Dequantized = DequantizeAll(type, bytes, rows * cols);
    }

    /// <summary>A harness over the given [rows, rowBytes] blocks (hand-made edge cases).</summary>
    public static KernelHarness FromBytes(GgmlType type, int rows, int cols, byte[] bytes) => new(type, rows, cols, bytes);

    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public WeightMatrix Matrix { get; }

    /// <summary>[rows, cols] weights as ggml dequantizes them.</summary>
    public float[] Dequantized { get; }

    public float[] Run(float[] x, int n, ComputeTeam team, KernelPath path)
    {
        var y = new float[n * Rows];
        Matrix.Multiply(x, y, n, team, path);
        return y;
    }

    /// <summary>The activations the integer kernels actually see: quantized (scalar twin) and dequantized back.</summary>
    public float[] EffectiveActivations(float[] x, int n)
    {
        var kind = WeightTypes.Find(Type)!.Activation;
        if (kind == ActivationKind.None)
            return x;
        if (kind == ActivationKind.F16)
            return x.Select(v => (float)(Half)v).ToArray();
        var r = new float[x.Length];
        var q = new sbyte[QuantizedRows.QsStrideFor(Cols)];
        var s = new float[Math.Max(QuantizedRows.Q8_0ScaleStride(Cols), Cols / 256) + 32];
        var sums = new short[Cols / 16 + 16];
        fixed (float* xp = x)
        fixed (sbyte* qp = q)
        fixed (float* sp = s)
        fixed (short* bp = sums)
            for (int i = 0; i < n; i++)
            {
                if (kind == ActivationKind.Q8_0)
                    ActivationQuantizer.Q8_0Row(xp + i * Cols, Cols, qp, sp, simd: false);
                else
                    ActivationQuantizer.Q8_KRow(xp + i * Cols, Cols, qp, sp, bp, simd: false);
                for (int j = 0; j < Cols; j++)
                {
                    float d = kind == ActivationKind.Q8_0 ? s[(j / 64) * 4 + (j / 32 % 2)] : s[j / 256];
                    r[i * Cols + j] = q[j] * d;
                }
            }
        return r;
    }

    /// <summary>Plain f64 dots of dequantized weights with <paramref name="xs"/>; also Σ|w·x| per output as an error scale.</summary>
    public (double[] Y, double[] Magnitude) Reference(float[] xs, int n)
    {
        var y = new double[n * Rows];
        var m = new double[n * Rows];
        for (int i = 0; i < n; i++)
            for (int r = 0; r < Rows; r++)
            {
                double acc = 0, mag = 0;
                for (int j = 0; j < Cols; j++)
                {
                    double p = (double)Dequantized[r * Cols + j] * xs[i * Cols + j];
                    acc += p;
                    mag += Math.Abs(p);
                }
                y[i * Rows + r] = acc;
                m[i * Rows + r] = mag;
            }
        return (y, m);
    }

    private static float[] DequantizeAll(GgmlType type, byte[] bytes, int count)
    {
        switch (type)
        {
            case GgmlType.F32:
                return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case GgmlType.F16:
                return MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(h => (float)h).ToArray();
            case GgmlType.BF16:
                return MemoryMarshal.Cast<byte, ushort>(bytes).ToArray().Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray();
            default:
                return GgmlQuantOracle.Dequantize(type, bytes, count);
        }
    }
}
