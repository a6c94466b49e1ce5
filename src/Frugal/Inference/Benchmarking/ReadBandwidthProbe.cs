using System.Diagnostics;
using Frugal.Numerics.Threading;

namespace Frugal.Inference.Benchmarking;

/// <summary>
/// The machine's memory read bandwidth as the kernels' compute team sees it: the same threads stream a buffer far
/// larger than the last-level cache (<see cref="MemoryReadSweep"/>), so decode's weight bandwidth can be judged
/// against what this machine delivers in the same run rather than against a figure measured at another time.
/// One measurement is the best of <see cref="Passes"/> sweeps (STREAM's convention: the fastest pass is the one least
/// disturbed by other work); a caller takes the median of several measurements spread over its run.
/// </summary>
public sealed class ReadBandwidthProbe : IDisposable
{
    /// <summary>
    /// 1 GiB. Smaller buffers read partly from cache even far past the L3's nominal size (its replacement policy
    /// resists cyclic sweeps): on the 2-core Zen 5 VM, quiet, 2 threads, 64 MiB read at 103 GB/s, 256 MiB at 50-63 GB/s
    /// from one run to the next, 1 GiB at 49.5-50.4 GB/s every time. The price on that VM is the first touch of fresh
    /// memory, ~3.5 s per GiB (pages come back from the host one fault at a time); elsewhere it is a fraction of that.
    /// </summary>
    public const long DefaultBytes = 1L << 30;

    /// <summary>
    /// 3 sweeps of 1 GiB (~65 ms at 50 GB/s): a burst of other work on a shared machine has to cover all of them to
    /// pull a measurement down; 3 sweeps of 256 MiB (~15 ms) fell to half the quiet figure.
    /// </summary>
    public const int DefaultPasses = 3;

    private readonly MemoryReadSweep _sweep;

    /// <summary>Allocates and writes the buffer (its pages become resident) and runs one untimed sweep.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a size that is not a positive multiple of 64 bytes, or fewer than one pass.</exception>
    public ReadBandwidthProbe(ComputeTeam team, long bytes = DefaultBytes, int passes = DefaultPasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        Passes = passes;
        _sweep = new MemoryReadSweep(bytes, team);
        _sweep.Read();
    }

    /// <summary>Size of the buffer each pass reads; resident for the probe's lifetime.</summary>
    public long Bytes => _sweep.Bytes;

    public int Passes { get; }

    public int Threads => _sweep.Team.ThreadCount;

    /// <summary>One measurement: bytes read per second by the fastest of <see cref="Passes"/> sweeps.</summary>
    public double MeasureBytesPerSecond()
    {
        double best = 0;
        for (int i = 0; i < Passes; i++)
        {
            long start = Stopwatch.GetTimestamp();
            _sweep.Read();
            // At least one tick: a tiny buffer on a coarse clock must not divide by zero.
            double seconds = Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1.0 / Stopwatch.Frequency);
            best = Math.Max(best, _sweep.Bytes / seconds);
        }
        return best;
    }

    public void Dispose() => _sweep.Dispose();
}
