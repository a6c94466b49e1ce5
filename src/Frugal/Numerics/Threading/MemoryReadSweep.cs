using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Frugal.Numerics.Threading;

/// <summary>
/// A buffer in native memory that a <see cref="ComputeTeam"/> reads end to end, each member its own contiguous slice,
/// with the widest vector loads the machine has: the read traffic of a decode step (every weight byte once, split
/// across the team) without the arithmetic, so its speed is what the memory system gives these threads.
/// Native and 64-byte aligned: the GC never moves or scans it and no load splits a cache line. Written once by the
/// team at construction, each member its own slice, because a page that was never written maps the kernel's shared
/// zero page and would be read from cache.
/// </summary>
public sealed unsafe class MemoryReadSweep : IDisposable
{
    /// <summary>The unit the buffer is split in: one cache line, one 512-bit vector.</summary>
    public const int LineBytes = 64;

    private readonly SweepJob _job;
    private ulong* _words; // [Bytes / 8], word i holds i

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is not a positive multiple of 64.</exception>
    public MemoryReadSweep(long bytes, ComputeTeam team)
    {
        ArgumentNullException.ThrowIfNull(team);
        if (bytes < LineBytes || bytes % LineBytes != 0)
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"a read sweep needs a positive multiple of {LineBytes} bytes");
        Bytes = bytes;
        Team = team;
        _words = (ulong*)NativeMemory.AlignedAlloc((nuint)bytes, LineBytes);
        _job = new SweepJob(_words, bytes / LineBytes, team.ThreadCount) { Fill = true };
        team.Run(_job);
        _job.Fill = false;
    }

    ~MemoryReadSweep() => Free();

    public long Bytes { get; }

    /// <summary>The team that writes and reads the buffer; its width is fixed at construction.</summary>
    public ComputeTeam Team { get; }

    /// <summary>
    /// Reads every byte once across the team and returns the wrapping sum of the buffer's 64-bit words
    /// (n(n-1)/2 mod 2^64 for n words): the sum keeps the loads from being elided and lets a test check that every
    /// word was read exactly once.
    /// </summary>
    public ulong Read()
    {
        ObjectDisposedException.ThrowIf(_words == null, this);
        Team.Run(_job);
        ulong sum = 0;
        foreach (ulong part in _job.Partial) sum += part;
        return sum;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_words == null)
            return;
        NativeMemory.AlignedFree(_words);
        _words = null;
    }

    private sealed class SweepJob(ulong* words, long lines, int members) : IComputeJob
    {
        private const int WordsPerLine = LineBytes / sizeof(ulong);

        public readonly ulong[] Partial = new ulong[members]; // [members], each member's sum
        public bool Fill;

        public void Execute(int worker, int workers)
        {
            // Contiguous slices in whole lines, as the matmul job splits rows: each member streams its own range.
            long first = lines * worker / workers, end = lines * (worker + 1) / workers;
            long start = first * WordsPerLine, count = (end - first) * WordsPerLine;
            if (Fill)
            {
                for (long i = 0; i < count; i++)
                    words[start + i] = (ulong)(start + i);
                return;
            }
            Partial[worker] = Sum(words + start, count);
        }

        // Four independent accumulators of integer adds: a single chain would be one load per add latency, and
        // floating-point adds (4 cycles) could cap the loop below what memory delivers.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static ulong Sum(ulong* p, long count)
        {
            long i = 0;
            ulong sum = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<ulong> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i + 32 <= count; i += 32)
                {
                    a0 += Vector512.LoadAligned(p + i);
                    a1 += Vector512.LoadAligned(p + i + 8);
                    a2 += Vector512.LoadAligned(p + i + 16);
                    a3 += Vector512.LoadAligned(p + i + 24);
                }
                for (; i + 8 <= count; i += 8)
                    a0 += Vector512.LoadAligned(p + i);
                sum = Vector512.Sum(a0 + a1 + a2 + a3);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<ulong> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i + 16 <= count; i += 16)
                {
                    a0 += Vector256.LoadAligned(p + i);
                    a1 += Vector256.LoadAligned(p + i + 4);
                    a2 += Vector256.LoadAligned(p + i + 8);
                    a3 += Vector256.LoadAligned(p + i + 12);
                }
                sum = Vector256.Sum(a0 + a1 + a2 + a3);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Vector128<ulong> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; i + 8 <= count; i += 8)
                {
                    a0 += Vector128.LoadAligned(p + i);
                    a1 += Vector128.LoadAligned(p + i + 2);
                    a2 += Vector128.LoadAligned(p + i + 4);
                    a3 += Vector128.LoadAligned(p + i + 6);
                }
                sum = Vector128.Sum(a0 + a1 + a2 + a3);
            }
            for (; i < count; i++)
                sum += p[i];
            return sum;
        }
    }
}
