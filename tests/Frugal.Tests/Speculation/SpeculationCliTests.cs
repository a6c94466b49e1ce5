using System.Text.Json;
using Frugal.Tests.Cli;

namespace Frugal.Tests.Speculation;

public sealed class SpeculationCliTests : IDisposable
{
    private readonly CliHarness _cli = new() { DefaultModelPath = BuiltInPair.MainPath };

    public void Dispose() => _cli.Dispose();

    private static JsonElement Json(CliHarness.Outcome o)
    {
        Assert.True(o.ExitCode == 0, o.Error);
        return JsonDocument.Parse(o.Out).RootElement;
    }

    [Fact]
    public void Run_json_reports_spec_counters_and_the_same_tokens_as_without_speculation()
    {
        string prompt = BuiltInPair.Prompts[6];
        var plain = Json(_cli.Run("run", "-p", prompt, "-n", "24", "--temp", "0", "--spec", "off", "--json"));
        var spec = Json(_cli.Run("run", "-p", prompt, "-n", "24", "--temp", "0", "--spec", "lookup", "--draft-max", "4", "--json"));
        Assert.Equal(plain.GetProperty("tokens").ToString(), spec.GetProperty("tokens").ToString());
        Assert.Equal(0, plain.GetProperty("timings").GetProperty("spec").GetProperty("drafted").GetInt32());
        var counters = spec.GetProperty("timings").GetProperty("spec");
        Assert.InRange(counters.GetProperty("drafted").GetInt32(), 1, 24);
        Assert.InRange(counters.GetProperty("accepted").GetInt32(), 0, counters.GetProperty("drafted").GetInt32());
    }

    [Fact]
    public void Bad_speculation_options_are_clear_errors()
    {
        var o = _cli.Run("run", "-p", "Once", "--spec", "sometimes");
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains("sometimes", o.Error);
        o = _cli.Run("run", "-p", "Once", "--draft-max", "0");
        Assert.Contains("--draft-max", o.Error);
        o = _cli.Run("run", "-p", "Once", "--draft", "/nonexistent/draft.gguf");
        Assert.Contains("--draft", o.Error);
        o = _cli.Run("run", "-p", "Once", "--draft", Engine.ServingModels.Tiny);
        Assert.Contains("vocabulary", o.Error);
    }
}
