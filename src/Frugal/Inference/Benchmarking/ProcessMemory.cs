using System.Diagnostics;
using System.Globalization;

namespace Frugal.Inference.Benchmarking;

/// <summary>Memory figures of the current process, as a benchmark reports them.</summary>
public static class ProcessMemory
{
    private const string StatusPath = "/proc/self/status";

    /// <summary>
    /// Peak resident set size in bytes (Linux: VmHWM of /proc/self/status, which counts memory-mapped weight pages
    /// that were touched; elsewhere the runtime's peak working set).
    /// </summary>
    public static long PeakResidentBytes()
    {
        if (OperatingSystem.IsLinux() && File.Exists(StatusPath))
        {
            long? kib = ParseStatusKib(File.ReadAllText(StatusPath), "VmHWM");
            if (kib is { } k)
                return k * 1024;
        }
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    /// <summary>Resident set size now in bytes (Linux: VmRSS; elsewhere the working set).</summary>
    public static long ResidentBytes()
    {
        if (OperatingSystem.IsLinux() && File.Exists(StatusPath) && ParseStatusKib(File.ReadAllText(StatusPath), "VmRSS") is { } k)
            return k * 1024;
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    /// <summary>The value of a "Name:   1234 kB" line of a /proc status text, in KiB; null when absent or malformed.</summary>
    public static long? ParseStatusKib(string status, string field)
    {
        ArgumentNullException.ThrowIfNull(status);
        foreach (var line in status.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith(field, StringComparison.Ordinal) || line.Length <= field.Length || line[field.Length] != ':')
                continue;
            var rest = line[(field.Length + 1)..].Trim();
            if (rest.EndsWith("kB", StringComparison.Ordinal))
                rest = rest[..^2].TrimEnd();
            return long.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;
        }
        return null;
    }
}
