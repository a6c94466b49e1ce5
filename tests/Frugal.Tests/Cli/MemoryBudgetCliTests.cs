using System.Text.Json;
using Frugal.Models.Synthetic;
using Frugal.Numerics;

namespace Frugal.Tests.Cli;

/// <summary><c>--mem-budget</c> on the command line: parsing errors name the option; <c>run --json</c> reports the stream.</summary>
public sealed class MemoryBudgetCliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string WriteModel()
    {
        string path = Path.Combine(_cli.Directory, "budget.gguf");
        SyntheticModelWriter.Write(SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, GgmlType.Q8_0) with { BlockCount = 4 }, path);
        return path;
    }

    [Theory]
    [InlineData("abc", "--mem-budget: 'abc'")]
    [InlineData("12Q", "--mem-budget: '12Q': unknown unit")]
    [InlineData("1K", "--mem-budget: memory budget 1.0 KiB is too small for this model")]
    public void Bad_budgets_are_one_error_line_naming_the_option(string budget, string message)
    {
        var r = _cli.Run("run", WriteModel(), "-p", "hi", "-n", "2", "--mem-budget", budget);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: " + message, r.Error);
    }

    [Fact]
    public void Run_json_reports_peak_rss_and_the_streamed_layers_under_a_budget()
    {
        string path = WriteModel();
        var plain = _cli.Run("run", path, "-p", "one two three", "-n", "4", "--temp", "0", "--json");
        // 4 layers of ~160 KB: 600K keeps the output and the embedding beside two buffers and streams every layer.
        var budgeted = _cli.Run("run", path, "-p", "one two three", "-n", "4", "--temp", "0", "--json", "--mem-budget", "600K");
        Assert.Equal(0, budgeted.ExitCode);
        using var a = JsonDocument.Parse(plain.Out);
        using var b = JsonDocument.Parse(budgeted.Out);
        Assert.Equal(a.RootElement.GetProperty("tokens").GetRawText(), b.RootElement.GetProperty("tokens").GetRawText());
        Assert.True(b.RootElement.GetProperty("peak_rss_mb").GetDouble() > 1);
        var w = b.RootElement.GetProperty("weights");
        Assert.Equal(600 * 1024, w.GetProperty("mem_budget_bytes").GetInt64());
        Assert.True(w.GetProperty("streamed_layers").GetInt32() >= 1);
        // The prompt is one forward, then 3 more for the 4 tokens (the last is sampled, not evaluated).
        Assert.Equal(4 * w.GetProperty("streamed_layers").GetInt32(), w.GetProperty("units_used").GetInt32());
        Assert.Equal(JsonValueKind.Null, a.RootElement.GetProperty("weights").GetProperty("mem_budget_bytes").ValueKind);
    }
}
