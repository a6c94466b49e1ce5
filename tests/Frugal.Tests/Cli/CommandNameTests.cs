using System.Text.RegularExpressions;
using Frugal.Cli;

namespace Frugal.Tests.Cli;

/// <summary>Help, errors and the version speak of the command as a user types it: frugal.</summary>
public sealed class CommandNameTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Help_names_the_command_frugal()
    {
        var o = _cli.Run("--help");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("Usage:" + Environment.NewLine + "  frugal [command] [options]", o.Out);
        Assert.DoesNotContain("Frugal.Cli", o.Out);
        var run = _cli.Run("run", "--help");
        Assert.Contains("frugal run [<MODEL>] [options]", run.Out);
    }

    [Fact]
    public void Version_prints_frugal_and_the_package_version()
    {
        var o = _cli.Run("--version");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        Assert.Matches(new Regex(@"^frugal 0\.1\.0(\+[0-9a-f]+)?\r?\n$"), o.Out);
        Assert.Equal("frugal " + FrugalCli.Version + Environment.NewLine, o.Out);
    }

    [Fact]
    public void No_command_is_an_error_that_points_to_help()
    {
        var o = _cli.Run();
        Assert.Equal((1, "error: give a command; 'frugal --help' lists them"), (o.ExitCode, o.Error.TrimEnd()));
    }

    [Fact]
    public void A_usage_error_shows_the_usage_of_frugal_not_of_the_assembly()
    {
        var o = _cli.Run("run", "--temp", "warm");
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains("'warm'", o.Error);
        Assert.Contains("frugal run [<MODEL>] [options]", o.Out + o.Error);
        Assert.DoesNotContain("Frugal.Cli", o.Out + o.Error);
    }
}
