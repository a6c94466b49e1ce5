using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Frugal.Numerics.Threading;

/// <summary>
/// A persistent team of compute threads: created once, woken for every parallel step, never a Task or
/// Parallel.For per matmul. The calling thread is member 0, so a team of N threads starts N - 1 workers.
/// Workers spin briefly after each step (decode issues matmuls back to back, microseconds apart) and then
/// block, so an idle team costs no CPU. Also owns the pinned scratch the kernels quantize activations into,
/// sized to the largest call seen and reused, so a steady-state step allocates nothing.
/// </summary>
public sealed class ComputeTeam : IDisposable
{
    private static readonly object DefaultGate = new();
    private static ComputeTeam? _default;

    // How long a worker spins for the next step before blocking (Stopwatch ticks).
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 us

    private readonly Thread[] _workers;
    private readonly object _sleepGate = new();
    private readonly object _runGate = new();
    private IComputeJob? _job;
    private int _generation;
    private int _pending;
    private int _sleepers;
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _failure;
    private byte[] _scratch = [];

    /// <summary>The matmul job object of this team, created on first use and reused by every multiply.</summary>
    internal Kernels.MatMulJob? MatMulJob;

    public ComputeTeam(int threads)
    {
        if (threads < 1)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "a compute team needs at least one thread");
        ThreadCount = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int member = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(member)) { IsBackground = true, Name = $"frugal-compute-{member}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads taking part in each step, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Steps smaller than this many multiply-adds run on the calling thread alone: waking the team and meeting at its
    /// barrier costs a few microseconds, more than a small model's whole matmul (the built-in model decodes in tens of
    /// microseconds a step). 0 (a team made with <c>new</c>, as tests make them) always runs on every member.
    /// </summary>
    public long InlineMultiplyAdds { get; init; }

    /// <summary>The threshold of <see cref="Default"/>: ~2^19 int8 multiply-adds are a few microseconds of one core.</summary>
    public const long DefaultInlineMultiplyAdds = 1 << 19;

    /// <summary>True when a step of <paramref name="multiplyAdds"/> should stay on the calling thread.</summary>
    internal bool RunsInline(long multiplyAdds) => ThreadCount == 1 || multiplyAdds < InlineMultiplyAdds;

    /// <summary>The process-wide team used by <see cref="WeightMatrix.Multiply"/>; physical cores unless configured.</summary>
    public static ComputeTeam Default
    {
        get
        {
            lock (DefaultGate)
                return _default ??= new ComputeTeam(CpuTopology.PhysicalCores) { InlineMultiplyAdds = DefaultInlineMultiplyAdds };
        }
    }

    /// <summary>Replaces the default team with one of <paramref name="threads"/> threads (the `--threads` option).</summary>
    public static void ConfigureDefault(int threads)
    {
        var team = new ComputeTeam(threads) { InlineMultiplyAdds = DefaultInlineMultiplyAdds };
        ComputeTeam? old;
        lock (DefaultGate)
        {
            old = _default;
            _default = team;
        }
        old?.Dispose();
    }

    /// <summary>Held by a caller for a whole multi-step operation (quantize, then multiply) that uses the scratch.</summary>
    internal object RunGate => _runGate;

    /// <summary>
    /// Pinned scratch of at least <paramref name="bytes"/> bytes, valid until the next call. Grows only when a larger
    /// call comes; callers must hold <see cref="RunGate"/>.
    /// </summary>
    internal unsafe byte* Scratch(long bytes)
    {
        // The array carries 64 bytes for the alignment below: a request that fits the array but not what is left past
        // the aligned start must grow it (comparing with the bare length overran the array by up to 63 bytes).
        if (_scratch.Length < bytes + 64)
            _scratch = GC.AllocateUninitializedArray<byte>(checked((int)(bytes + 64)), pinned: true);
        // 64-byte alignment so 512-bit loads of activation rows never split a cache line.
        fixed (byte* p = _scratch)
            return (byte*)(((nint)p + 63) & ~(nint)63);
    }

    /// <summary>Runs <paramref name="job"/> on every member and returns when all have finished.</summary>
    internal void Run(IComputeJob job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_runGate)
        {
            if (_workers.Length == 0)
            {
                job.Execute(0, 1);
                return;
            }
            _job = job;
            _failure = null;
            Volatile.Write(ref _pending, _workers.Length);
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_sleepGate)
                    Monitor.PulseAll(_sleepGate);
            try
            {
                job.Execute(0, ThreadCount);
            }
            finally
            {
                var spin = new SpinWait();
                while (Volatile.Read(ref _pending) != 0)
                    spin.SpinOnce(sleep1Threshold: -1);
                _job = null;
            }
            _failure?.Throw();
        }
    }

    private void WorkerLoop(int member)
    {
        int seen = 0;
        while (true)
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    lock (_sleepGate)
                    {
                        // Dekker pairing with Run: it bumps the generation then reads _sleepers; we bump _sleepers
                        // then read the generation (both interlocked), so one of us always sees the other.
                        Interlocked.Increment(ref _sleepers);
                        while (Volatile.Read(ref _generation) == seen && !_disposed)
                            Monitor.Wait(_sleepGate);
                        Interlocked.Decrement(ref _sleepers);
                    }
                    break;
                }
                Thread.SpinWait(20);
            }
            if (_disposed)
                return;
            seen = Volatile.Read(ref _generation);
            try
            {
                _job!.Execute(member, ThreadCount);
            }
            catch (Exception e)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
            }
            Interlocked.Decrement(ref _pending);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        lock (_sleepGate)
            Monitor.PulseAll(_sleepGate);
        foreach (var t in _workers)
            t.Join();
    }
}
