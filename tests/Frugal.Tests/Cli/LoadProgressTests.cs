using Frugal.Cli;
using Frugal.Models;
using Frugal.Tests.Inference;

namespace Frugal.Tests.Cli;

/// <summary>A spinner on stderr while a model loads: only on a terminal, only when the load takes over a second.</summary>
public sealed class LoadProgressTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private (int Code, string Out, string Error) Run(bool terminal, TimeSpan loadTime)
    {
        string path = _cli.WriteModel("slow.gguf");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr)
        {
            ErrorIsTerminal = terminal,
            InputRedirected = false,
            LoadTokenizer = _ => new ByteTokenizer(),
            LoadModel = (_, _) =>
            {
                Thread.Sleep(loadTime);
                return CliHarness.ScriptedModel("ok");
            },
        };
        int code = FrugalCli.Run(["run", path, "-p", "hi", "--json"], context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void A_slow_load_on_a_terminal_shows_a_spinner_naming_the_file()
    {
        var (code, stdout, stderr) = Run(terminal: true, TimeSpan.FromMilliseconds(1700));
        Assert.Equal(0, code);
        Assert.Contains("loading slow.gguf", stderr);
        Assert.Contains("\"text\":\"ok\"", stdout); // the spinner never touches stdout
    }

    [Fact]
    public void A_slow_load_with_stderr_redirected_prints_nothing_but_the_result()
    {
        var (code, stdout, stderr) = Run(terminal: false, TimeSpan.FromMilliseconds(1300));
        Assert.Equal((0, ""), (code, stderr));
        Assert.Contains("\"text\":\"ok\"", stdout);
    }

    [Fact]
    public void A_quick_load_on_a_terminal_prints_no_spinner()
    {
        var (code, _, stderr) = Run(terminal: true, TimeSpan.Zero);
        Assert.Equal((0, ""), (code, stderr));
    }

    [Fact]
    public void A_failing_load_reports_its_error_not_the_spinner()
    {
        string path = _cli.WriteModel("bad.gguf");
        var stderr = new StringWriter();
        var context = new CliContext(new StringWriter(), stderr)
        {
            ErrorIsTerminal = true,
            LoadTokenizer = _ => new ByteTokenizer(),
            LoadModel = (_, _) => throw new ModelFormatException("bad.gguf", "blk.0.attn_q.weight", "tensor is missing"),
        };
        Assert.Equal(1, FrugalCli.Run(["run", path, "-p", "hi"], context));
        Assert.Equal("error: model file 'bad.gguf': blk.0.attn_q.weight: tensor is missing", stderr.ToString().TrimEnd());
    }
}
