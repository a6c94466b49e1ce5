using System.Globalization;

namespace Frugal.Planning;

/// <summary>Free memory and the memory cgroup limit of this process, read from /proc and /sys/fs/cgroup (Linux).</summary>
public static class MemoryLimits
{
    /// <summary>cgroup limits at or above this mean "no limit" (v1 writes 2^63 rounded down to a page).</summary>
    private const long Unlimited = 1L << 60;

    /// <summary>MemAvailable in bytes; on other systems the runtime's view of available memory.</summary>
    public static long AvailableBytes()
    {
        if (File.Exists("/proc/meminfo") && ParseMemInfo(File.ReadAllText("/proc/meminfo"), "MemAvailable") is { } b)
            return b;
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>A "Name:   1234 kB" field of /proc/meminfo in bytes; null when absent.</summary>
    public static long? ParseMemInfo(string text, string field)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            var parts = line[(field.Length + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long v))
                return parts.Length > 1 && parts[1] == "kB" ? v * 1024 : v;
        }
        return null;
    }

    /// <summary>
    /// The memory cgroup limit and usage of this process: cgroup v2 (<c>memory.max</c>, <c>memory.current</c>) or v1
    /// (<c>memory.limit_in_bytes</c>, <c>memory.usage_in_bytes</c>) under the path /proc/self/cgroup names, walking up
    /// to the root so a limit on a parent group counts; (null, null) when none applies.
    /// </summary>
    public static (long? Limit, long? Usage) Cgroup(string root = "/sys/fs/cgroup", string self = "/proc/self/cgroup")
    {
        if (!File.Exists(self)) return (null, null);
        long? limit = null, usage = null;
        foreach (var line in File.ReadAllLines(self))
        {
            var f = line.Split(':', 3);
            if (f.Length < 3) continue;
            bool v2 = f[0] == "0" && f[1] == "";
            bool v1 = f[1].Split(',').Contains("memory");
            if (!v1 && !v2) continue;
            string dir = v1 ? Path.Combine(root, "memory") : root;
            (string limitFile, string usageFile) = v1 ? ("memory.limit_in_bytes", "memory.usage_in_bytes") : ("memory.max", "memory.current");
            for (string? rel = f[2]; rel is not null; rel = rel == "/" || rel == "" ? null : Path.GetDirectoryName(rel))
            {
                string at = Path.Combine(dir, rel.TrimStart('/'));
                if (ReadBytes(Path.Combine(at, limitFile)) is { } l && l < Unlimited && (limit is null || l < limit))
                {
                    limit = l;
                    usage = ReadBytes(Path.Combine(at, usageFile));
                }
            }
        }
        return (limit, limit is null ? null : usage);
    }

    private static long? ReadBytes(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            string text = File.ReadAllText(path).Trim();
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : null; // "max" = none
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
