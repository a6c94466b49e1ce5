using System.Globalization;
using System.Text.Json;
using Frugal.Inference.Benchmarking;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Cli;

/// <summary><c>frugal membw</c>: the read-bandwidth probe on its own. No speed is asserted, only shape and sanity.</summary>
public sealed class MembwCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static string Threads => ComputeTeam.Default.ThreadCount.ToString(CultureInfo.InvariantCulture); // keep the shared team

    [Fact]
    public void Membw_json_reports_the_median_of_its_probes()
    {
        var o = _cli.Run("membw", "--mib", "4", "--probes", "3", "--passes", "2", "-t", Threads, "--json");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        using var doc = JsonDocument.Parse(o.Out);
        var j = doc.RootElement;
        Assert.Equal(ComputeTeam.Default.ThreadCount, j.GetProperty("threads").GetInt32());
        Assert.Equal(4L << 20, j.GetProperty("membw_bytes").GetInt64());
        Assert.Equal(2, j.GetProperty("passes").GetInt32());
        var probes = j.GetProperty("read_gb_s_probes").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(3, probes.Length);
        Assert.All(probes, gbps => Assert.True(double.IsFinite(gbps) && gbps > 0, $"{gbps} GB/s"));
        Assert.Equal(SampleStatistics.Median(probes), j.GetProperty("read_gb_s").GetDouble());
    }

    [Fact]
    public void Membw_text_names_the_figure_and_lists_the_probes()
    {
        var o = _cli.Run("membw", "--mib", "2", "--probes", "2", "-t", Threads);
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        var lines = o.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Matches(@"^memory read [0-9.]+ GB/s \(median of 2 probes, each the best of 3 passes over 2 MiB, \d+ threads\)$", lines[0]);
        Assert.Matches(@"^probes GB/s: [0-9.]+ [0-9.]+$", lines[1]);
    }

    [Theory]
    [InlineData("--mib", "0", "--mib: expected at least 1 MiB, got 0")]
    [InlineData("--probes", "0", "--probes: expected at least 1 measurement, got 0")]
    [InlineData("--passes", "-1", "--passes: expected at least 1 pass, got -1")]
    [InlineData("-t", "0", "-t/--threads: expected at least 1 thread, got 0")]
    public void Membw_rejects_bad_values_naming_the_option(string option, string value, string message)
    {
        var o = _cli.Run("membw", option, value);
        Assert.Equal(1, o.ExitCode);
        Assert.Equal($"error: {message}", o.Error.TrimEnd());
        Assert.Equal("", o.Out);
    }
}
