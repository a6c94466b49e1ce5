using System.Text.Json;
using Frugal.Models.Synthetic;
using Frugal.Tests.Engine;
using Frugal.Tests.Models;

namespace Frugal.Tests.Cli;

/// <summary>
/// <c>--kv-budget</c>, <c>--kv-policy</c>, <c>--kv-sinks</c> (run, chat, serve, bench, eval, perplexity), <c>--context-shift</c> /
/// <c>--keep</c> (run, serve; chat has <c>--no-context-shift</c>) and <c>run --ignore-eos</c>.
/// </summary>
public sealed class KvRetentionOptionTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string[] Args(string command) => command switch
    {
        "run" => ["run", _cli.WriteModel("m.gguf"), "-p", "hi", "-n", "3"],
        "eval" => ["eval", _cli.WriteModel("m.gguf"), "--task", "copy", "--n", "1"],
        "perplexity" => ["perplexity", _cli.WriteModel("m.gguf"), _cli.WriteBytes("t.txt", new byte[200].Select(_ => (byte)'y').ToArray())],
        "bench" => ["bench", _cli.WriteModel("m.gguf"), "-p", "4", "-n", "2", "-r", "1", "--no-membw"],
        "chat" => ["chat", ServingModels.Tiny],
        _ => ["serve", ServingModels.Tiny, "--port", "0"],
    };

    public static TheoryData<string> Commands => ["run", "chat", "serve", "bench", "eval", "perplexity"];

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_bad_budget_option_is_one_line_naming_it(string command)
    {
        (string[] Options, string Error)[] cases =
        [
            (["--kv-policy", "lru"], "--kv-policy: unknown KV eviction policy 'lru': expected one of window, sinks, keydiff"),
            (["--kv-budget", "0"], "--kv-budget: the KV budget must be at least 1 position, got 0"),
            (["--kv-budget", "32", "--kv-sinks", "-1"], "--kv-sinks: sinks must be at least 0, got -1"),
        ];
        foreach (var (options, error) in cases)
        {
            var o = _cli.RunFake("ok", 64, [.. Args(command), .. options]);
            Assert.Equal(1, o.ExitCode);
            Assert.Equal($"error: {error}\n", o.Error.ReplaceLineEndings("\n"));
        }
    }

    [Fact]
    public void A_budget_the_context_cannot_hold_is_refused_before_generating()
    {
        var o = _cli.RunFake("ok", 64, [.. Args("run"), "--kv-budget", "64"]);
        Assert.Equal(1, o.ExitCode);
        Assert.Equal("error: --kv-budget: the KV budget (64) must be smaller than the context (64)\n", o.Error.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("--context-shift", "--keep", "4")]
    [InlineData("--kv-budget", "24", "--kv-policy", "keydiff")]
    public void Run_generates_past_the_context_with_a_shift_or_a_budget_and_ignore_eos(params string[] options)
    {
        string model = SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, seed: 90) with { BlockCount = 1 });
        var o = _cli.Run(["run", model, "-p", "once upon a time", "-n", "150", "--ctx-size", "48", "--ignore-eos", "--temp", "0", "--json", .. options]);
        Assert.True(o.ExitCode == 0, o.Error);
        using var json = JsonDocument.Parse(o.Out);
        Assert.Equal(150, json.RootElement.GetProperty("tokens").GetArrayLength());
        Assert.Equal("max_tokens", json.RootElement.GetProperty("stop_reason").GetString());

        var refused = _cli.Run(["run", model, "-p", "once upon a time", "-n", "150", "--ctx-size", "48", "--ignore-eos", "--temp", "0", "--json"]);
        Assert.True(refused.ExitCode == 0, refused.Error);
        using var full = JsonDocument.Parse(refused.Out);
        Assert.Equal("context_full", full.RootElement.GetProperty("stop_reason").GetString());
    }
}
