using System.Diagnostics;
using System.Runtime.InteropServices;
using Frugal.Numerics;

namespace Frugal.Inference.Benchmarking;

/// <summary>
/// How fast the streaming reader turns file rows of one weight type into this CPU's kernel layout: the repack step of
/// <see cref="StreamedMatrix.Fill"/> on one thread (the read-ahead thread's), timed on a [rows, cols] matrix already
/// in memory, so the file read is not in it (<c>frugal plan</c> adds the disk's or the page cache's rate for that).
/// Types read straight into place need no repack; <see cref="Repacks"/> says which.
/// </summary>
public sealed class RepackRateProbe : IDisposable
{
    private readonly byte[] _blocks;   // [rows, RowBytes]: the staging slice, as the file holds the rows
    private readonly Numerics.Kernels.KernelLayoutBuffer _area;
    private readonly GgmlType _type;
    private readonly int _rows, _cols;

    public RepackRateProbe(GgmlType type, int rows, int cols, int seed = 7)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 16);
        _type = type;
        _rows = rows / 16 * 16;
        _cols = cols;
        FileBytes = GgmlTypeInfo.RowBytes(type, cols) * _rows;
        _blocks = MatMulRateProbe.RandomRows(type, _rows, cols, new Random(seed));
        Repacks = StreamedMatrix.StagingBytes(type, _rows, cols) > 0;
        _area = new Numerics.Kernels.KernelLayoutBuffer(StreamedMatrix.Bytes(type, _rows, cols));
        Fill(); // warm: JIT, first touch
    }

    /// <summary>Whether this type is repacked on this CPU (otherwise the reader reads it straight into place).</summary>
    public bool Repacks { get; }

    /// <summary>File bytes of the probe matrix.</summary>
    public long FileBytes { get; }

    private void Fill()
    {
        nint staging = Marshal.UnsafeAddrOfPinnedArrayElement(_blocks, 0);
        // The rows are already in the staging slice (the probe's rows fit one slice): the read is a no-op, the repack
        // is what is timed.
        StreamedMatrix.Fill(_type, _rows, _cols, _area.Address, (_, _, _) => { }, staging);
    }

    /// <summary>File bytes/s of the fastest of <paramref name="passes"/> repacks; infinity for a type that is not repacked.</summary>
    public double MeasureBytesPerSecond(int passes = 5)
    {
        if (!Repacks) return double.PositiveInfinity;
        double best = 0;
        for (int i = 0; i < passes; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Fill();
            double seconds = Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1.0 / Stopwatch.Frequency);
            best = Math.Max(best, FileBytes / seconds);
        }
        return best;
    }

    public void Dispose() => _area.Dispose();
}
