namespace Frugal.Numerics.Threading;

/// <summary>What the machine offers for compute threads.</summary>
public static class CpuTopology
{
    private static readonly Lazy<int> Physical = new(CountPhysicalCores);

    /// <summary>
    /// Physical cores available to this process (SMT siblings counted once): matmul kernels saturate a core's vector
    /// units, so a second hyper-thread on the same core only adds contention.
    /// </summary>
    public static int PhysicalCores => Physical.Value;

    private static int CountPhysicalCores()
    {
        int logical = Environment.ProcessorCount;
        if (!OperatingSystem.IsLinux())
            return logical;
        try
        {
            var cores = new HashSet<(string Package, string Core)>();
            foreach (string cpu in Directory.EnumerateDirectories("/sys/devices/system/cpu", "cpu*"))
            {
                string topo = Path.Combine(cpu, "topology");
                if (!File.Exists(Path.Combine(topo, "core_id")))
                    continue;
                cores.Add((File.ReadAllText(Path.Combine(topo, "physical_package_id")).Trim(),
                           File.ReadAllText(Path.Combine(topo, "core_id")).Trim()));
            }
            // The affinity mask (containers, taskset) may allow fewer CPUs than the machine has.
            return cores.Count == 0 ? logical : Math.Clamp(cores.Count, 1, logical);
        }
        catch (IOException)
        {
            return logical;
        }
        catch (UnauthorizedAccessException)
        {
            return logical;
        }
    }
}
