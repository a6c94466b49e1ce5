using System.Diagnostics;
using System.Text.Json;

namespace Frugal.Tests.Cli;

/// <summary>The built frugal executable, run as a separate process: exit codes and streams as a shell sees them.</summary>
public sealed class CliProcessTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static (int Code, string Out, string Error) Frugal(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) // the dotnet host running these tests
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
            StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Frugal.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Missing_file_exits_non_zero_with_one_line_on_stderr()
    {
        string path = Path.Combine(_cli.Directory, "nope.gguf");
        var (code, stdout, stderr) = Frugal("info", path);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"error: model file not found: '{path}'", stderr.TrimEnd());
    }

    [Fact]
    public void Info_json_on_stdout_is_utf8_json()
    {
        string path = _cli.WriteModel("m.gguf");
        var (code, stdout, stderr) = Frugal("info", path, "--json");
        Assert.Equal((0, ""), (code, stderr));
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("llama", doc.RootElement.GetProperty("architecture").GetString());
    }

    [Fact]
    public void Unknown_option_is_a_usage_error()
    {
        var (code, _, stderr) = Frugal("info", "x.gguf", "--bogus");
        Assert.NotEqual(0, code);
        Assert.Contains("--bogus", stderr);
    }

    [Fact]
    public void The_built_executable_calls_itself_frugal_in_help_and_version()
    {
        var (code, stdout, _) = Frugal("--help");
        Assert.Equal(0, code);
        Assert.Contains("  frugal [command] [options]", stdout);
        Assert.DoesNotContain("Frugal.Cli", stdout);
        var (vcode, version, verr) = Frugal("--version");
        Assert.Equal((0, ""), (vcode, verr));
        Assert.StartsWith("frugal 0.1.0", version);
    }

    [Fact]
    public void The_built_executable_runs_the_built_in_model_on_a_prompt_starting_with_an_at_sign()
    {
        var (code, stdout, stderr) = Frugal("run", "-p", "@alice hello", "-n", "4", "--ignore-eos", "--json", "--seed", "1");
        Assert.Equal((0, ""), (code, stderr));
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(4, doc.RootElement.GetProperty("tokens").GetArrayLength());
    }
}
