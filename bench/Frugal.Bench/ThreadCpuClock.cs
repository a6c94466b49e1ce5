using System.Runtime.InteropServices;

namespace Frugal.Bench;

/// <summary>
/// The calling thread's CPU time (Linux CLOCK_THREAD_CPUTIME_ID), so a per-step time on a machine shared with other
/// builds counts only this thread's work, not the time it waited for a core. Elsewhere, or when the call fails, it
/// reads NaN and the bench prints wall time only.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    private static bool Probe()
    {
        try { return ClockGetTime(ClockThreadCpuTimeId, out _) == 0; }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
    }

    /// <summary>This thread's CPU time in microseconds, or NaN where the clock is not available.</summary>
    public static double NowMicroseconds()
    {
        if (!Available || ClockGetTime(ClockThreadCpuTimeId, out var t) != 0) return double.NaN;
        return t.Seconds * 1e6 + t.Nanoseconds / 1e3;
    }
}
