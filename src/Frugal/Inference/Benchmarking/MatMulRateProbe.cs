using System.Diagnostics;
using System.Runtime.InteropServices;
using Frugal.Numerics;

namespace Frugal.Inference.Benchmarking;

/// <summary>
/// The arithmetic rate of the weight-times-activations multiply for one weight type, as prefill runs it: a
/// [rows, cols] matrix of random weights in that type (repacked as a model's would be on this CPU) times
/// <c>tokens</c> activation rows on the default compute team. Prefill is compute-bound (DESIGN.md, performance
/// model), so its time is close to the model's multiply FLOPs over this rate; <c>frugal plan</c> calibrates the rest.
/// </summary>
public sealed class MatMulRateProbe : IDisposable
{
    private readonly byte[] _blocks;   // [rows, RowBytes], pinned: the matrix reads it through a pointer
    private readonly WeightMatrix _matrix;
    private readonly float[] _x;       // [tokens, cols]
    private readonly float[] _y;       // [tokens, rows]

    /// <exception cref="NotSupportedException">the type cannot be quantized to or multiplied here.</exception>
    public MatMulRateProbe(GgmlType type, int rows, int cols, int tokens, int seed = 7)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        Type = type;
        Rows = rows;
        Cols = cols;
        Tokens = tokens;
        var rng = new Random(seed);
        _blocks = RandomRows(type, rows, cols, rng);
        _matrix = new WeightMatrix(type, Marshal.UnsafeAddrOfPinnedArrayElement(_blocks, 0), rows, cols, $"probe {type}");
        _matrix.PrepareKernelLayout();
        _x = new float[tokens * cols];
        for (int i = 0; i < _x.Length; i++) _x[i] = (float)(rng.NextDouble() * 2 - 1);
        _y = new float[tokens * rows];
        _matrix.Multiply(_x, _y, tokens); // warm: JIT, first touch
    }

    /// <summary>[rows, cols] uniform(-1, 1) weights quantized to <paramref name="type"/>, in a pinned array (the probes' matrix).</summary>
    internal static byte[] RandomRows(GgmlType type, int rows, int cols, Random rng)
    {
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        var blocks = GC.AllocateArray<byte>(checked((int)(rowBytes * rows)), pinned: true);
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
            Quantize.Row(type, row, blocks.AsSpan((int)(r * rowBytes), (int)rowBytes));
        }
        return blocks;
    }

    public GgmlType Type { get; }

    public int Rows { get; }

    public int Cols { get; }

    public int Tokens { get; }

    /// <summary>Multiply-adds counted as 2 FLOPs each, per multiply.</summary>
    public double FlopsPerMultiply => 2.0 * Rows * Cols * Tokens;

    /// <summary>FLOP/s of the fastest of <paramref name="passes"/> multiplies (the one least disturbed by other work).</summary>
    public double MeasureFlopsPerSecond(int passes = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        double best = 0;
        for (int i = 0; i < passes; i++)
        {
            long start = Stopwatch.GetTimestamp();
            _matrix.Multiply(_x, _y, Tokens);
            double seconds = Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1.0 / Stopwatch.Frequency);
            best = Math.Max(best, FlopsPerMultiply / seconds);
        }
        return best;
    }

    public void Dispose() => _matrix.Dispose();
}
