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
    /// 256 MiB: 8x the 32 MiB L3 of a Zen 5 CCD, so a cyclic sweep finds nothing of itself in cache, and ~6 ms a pass
    /// at 40 GB/s. Not 1 GiB: the first touch of fresh memory costs ~4 s per GiB on the VMs this is benchmarked on
    /// (pages come back from the host's balloon one fault at a time), which would make the probe the slowest part of
    /// a bench run.
    /// </summary>
    public const long DefaultBytes = 256L << 20;

    /// <summary>
    /// STREAM's default NTIMES: 10 passes (~65 ms at 40 GB/s) so that a burst of other work on a shared machine has to
    /// cover all of them to pull the figure down; with 3 (~20 ms) single measurements fell to half the quiet figure.
    /// </summary>
    public const int DefaultPasses = 10;

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
