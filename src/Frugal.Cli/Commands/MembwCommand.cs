using System.CommandLine;
using System.Globalization;
using Frugal.Inference.Benchmarking;
using Frugal.Numerics.Threading;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal membw [-t N] [--mib 1024] [--probes 5] [--passes 3] [--json]</c>: the machine's memory read bandwidth as
/// <c>frugal bench</c> measures it beside decode (the compute team streaming a buffer far beyond the caches), on its
/// own: the median of several probes, each the best of a few passes.
/// </summary>
internal static class MembwCommand
{
    private const double Giga = 1e9;
    private const int MiB = 1024 * 1024;

    /// <summary>The probe buffer's size in MiB, shared with <c>bench --membw-mib</c>.</summary>
    public static Option<int> SizeOption(string name) => new(name)
    {
        Description = "memory read-bandwidth probe buffer in MiB (far larger than the last-level cache)",
        DefaultValueFactory = _ => (int)(ReadBandwidthProbe.DefaultBytes / MiB),
    };

    /// <summary>The buffer size in bytes; a size below 1 MiB is the user's mistake, named by its option.</summary>
    public static long Bytes(string option, int mib) => mib >= 1
        ? (long)mib * MiB
        : throw new CliError($"{option}: expected at least 1 MiB, got {mib}");

    /// <summary>A probe on the default team; a buffer the machine cannot allocate is reported against its option.</summary>
    public static ReadBandwidthProbe CreateProbe(string option, long bytes, int passes = ReadBandwidthProbe.DefaultPasses)
    {
        try
        {
            return new ReadBandwidthProbe(ComputeTeam.Default, bytes, passes);
        }
        catch (OutOfMemoryException)
        {
            throw new CliError($"{option}: cannot allocate {bytes / MiB} MiB for the read-bandwidth probe");
        }
    }

    public static Command Create(CliContext context)
    {
        var size = SizeOption("--mib");
        var probes = new Option<int>("--probes") { Description = "measurements (the median is reported)", DefaultValueFactory = _ => 5 };
        var passes = new Option<int>("--passes") { Description = "sweeps per measurement (the fastest counts)", DefaultValueFactory = _ => ReadBandwidthProbe.DefaultPasses };
        var threads = ThreadsOption.Create();
        var json = CommonArguments.Json();
        var command = new Command("membw", "measure memory read bandwidth on the compute threads (what decode is bounded by)")
        {
            size, probes, passes, threads, json,
        };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            long bytes = Bytes("--mib", parse.GetValue(size));
            int k = parse.GetValue(probes), passCount = parse.GetValue(passes);
            if (k < 1) throw new CliError($"--probes: expected at least 1 measurement, got {k}");
            if (passCount < 1) throw new CliError($"--passes: expected at least 1 pass, got {passCount}");
            int t = ThreadsOption.Apply(parse.GetValue(threads));

            using var probe = CreateProbe("--mib", bytes, passCount);
            var samples = new double[k];
            for (int i = 0; i < k; i++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                samples[i] = probe.MeasureBytesPerSecond() / Giga;
            }
            double median = SampleStatistics.Median(samples);
            if (parse.GetValue(json))
            {
                JsonText.WriteLine(context.Out, j =>
                {
                    j.WriteNumber("threads", t);
                    j.WriteNumber("membw_bytes", bytes);
                    j.WriteNumber("passes", passCount);
                    j.WriteNumber("read_gb_s", median);
                    j.WriteStartArray("read_gb_s_probes");
                    foreach (double s in samples) j.WriteNumberValue(s);
                    j.WriteEndArray();
                });
            }
            else
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"memory read {median:F2} GB/s (median of {k} probes, each the best of {passCount} passes over {bytes / MiB} MiB, {t} threads)"));
                context.Out.WriteLine("probes GB/s: " + string.Join(" ", samples.Select(s => s.ToString("F2", CultureInfo.InvariantCulture))));
            }
            return 0;
        }));
        return command;
    }
}
