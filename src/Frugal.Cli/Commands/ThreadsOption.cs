using System.CommandLine;
using Frugal.Numerics.Threading;

namespace Frugal.Cli.Commands;

/// <summary>The <c>-t/--threads</c> option: size of the compute thread team the kernels run on.</summary>
internal static class ThreadsOption
{
    public static Option<int?> Create() => new("--threads", "-t")
    {
        Description = $"compute threads (default: physical cores, {CpuTopology.PhysicalCores} here)",
    };

    /// <summary>
    /// Makes the process-wide compute team <paramref name="requested"/> threads wide and returns the width in use.
    /// The team is replaced only when the width changes: replacing it stops the old team's workers.
    /// </summary>
    public static int Apply(int? requested)
    {
        if (requested is not { } threads)
            return ComputeTeam.Default.ThreadCount;
        if (threads < 1)
            throw new CliError($"-t/--threads: expected at least 1 thread, got {threads}");
        if (ComputeTeam.Default.ThreadCount != threads)
            ComputeTeam.ConfigureDefault(threads);
        return threads;
    }
}
