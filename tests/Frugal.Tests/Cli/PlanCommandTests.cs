using System.Text.Json;
using Frugal.Numerics;
using Frugal.Tests.Planning;

namespace Frugal.Tests.Cli;

/// <summary>
/// <c>frugal plan</c> on header-only fixtures, with fixed machine figures (the harness's), so nothing here is timed:
/// the JSON it prints, a model declared larger than RAM, and the errors a user can cause.
/// </summary>
public sealed class PlanCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string Small()
    {
        string path = Path.Combine(_cli.Directory, "small.gguf");
        PlanFixtures.WriteLlama(path, layers: 6, dim: 64, ff: 128, heads: 2, kvHeads: 1, vocab: 256, GgmlType.Q4_1);
        return path;
    }

    /// <summary>An 80-layer, 8192-wide Q4_1 model: 44 GB declared, a few KB on disk.</summary>
    private string Huge()
    {
        string path = Path.Combine(_cli.Directory, "huge.gguf");
        PlanFixtures.WriteLlama(path, layers: 80, dim: 8192, ff: 28672, heads: 64, kvHeads: 8, vocab: 128256, GgmlType.Q4_1, context: 8192);
        return path;
    }

    private static JsonElement Json(CliHarness.Outcome o)
    {
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        return JsonDocument.Parse(o.Out).RootElement.Clone();
    }

    [Fact]
    public void Json_has_the_split_memory_and_speeds_and_they_add_up()
    {
        var j = Json(_cli.Run("plan", Small(), "--ctx", "100", "-p", "64", "--json"));
        Assert.Equal(162048, j.GetProperty("resident_bytes").GetInt64());
        Assert.Equal(0, j.GetProperty("streamed_bytes").GetInt64());
        Assert.Equal(112 * 768, j.GetProperty("kv_bytes").GetInt64());
        double parts = j.GetProperty("resident_ram_bytes").GetInt64() + j.GetProperty("buffer_bytes").GetInt64()
            + j.GetProperty("kv_bytes").GetInt64() + j.GetProperty("scratch_bytes").GetInt64() + j.GetProperty("runtime_bytes").GetInt64();
        Assert.Equal(parts / 1e6, j.GetProperty("peak_rss_mb").GetDouble(), 1e-9);
        Assert.True(j.GetProperty("prefill_tok_s").GetDouble() > 0);
        Assert.True(j.GetProperty("decode_tok_s").GetDouble() > 0);
        Assert.Equal("memory_bandwidth", j.GetProperty("limited_by").GetString());
        Assert.Equal("compute", j.GetProperty("prefill_limited_by").GetString());
        Assert.Equal(10.0, j.GetProperty("machine").GetProperty("read_gb_s").GetDouble());
        Assert.True(j.GetProperty("recommendation").GetProperty("fits").GetBoolean());
    }

    [Fact]
    public void A_budget_streams_the_rest_and_gives_no_recommendation()
    {
        var j = Json(_cli.Run("plan", Small(), "--mem-budget", "120000", "--ctx", "100", "--cache-type", "q8_0", "--json"));
        Assert.Equal(4 * 23040, j.GetProperty("streamed_bytes").GetInt64());
        Assert.Equal(2, j.GetProperty("resident_layers").GetInt32());
        Assert.Equal(112 * 408, j.GetProperty("kv_bytes").GetInt64());
        Assert.Equal("q8_0", j.GetProperty("kv_type_v").GetString());
        Assert.False(j.TryGetProperty("recommendation", out _));
    }

    [Fact]
    public void A_model_declared_larger_than_ram_is_planned_from_its_header()
    {
        string path = Huge();
        Assert.True(new FileInfo(path).Length > 40_000_000_000); // declared; the data section is holes
        var none = Json(_cli.Run("plan", path, "--json"));
        Assert.False(none.GetProperty("fits").GetBoolean()); // 44 GB of weights against the harness's 8 GiB
        var advice = none.GetProperty("recommendation");
        Assert.True(advice.GetProperty("fits").GetBoolean());
        long budget = advice.GetProperty("mem_budget").GetInt64();
        Assert.InRange(budget, 1L << 30, 8L << 30);

        var j = Json(_cli.Run("plan", path, "--mem-budget", "4G", "--json"));
        Assert.True(j.GetProperty("resident_bytes").GetInt64() + j.GetProperty("buffer_bytes").GetInt64() <= 4L << 30);
        Assert.True(j.GetProperty("streamed_bytes").GetInt64() > 38_000_000_000);
        Assert.Equal("disk", j.GetProperty("limited_by").GetString()); // 40 GB per token cannot stay cached in 8 GiB
    }

    [Fact]
    public void Text_names_the_split_the_peak_and_the_limits()
    {
        var o = _cli.Run("plan", Small(), "--mem-budget", "120000", "--ctx", "100");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        Assert.Contains("weights   resident 68.2 KiB (2 of 6 layers), streamed 90.0 KiB per step through 2 x 22.5 KiB buffers", o.Out);
        Assert.Matches(@"memory    peak RSS [0-9.]+ MiB = weights", o.Out);
        Assert.Matches(@"decode    [0-9.]+ tok/s, limited by (memory bandwidth|page cache)", o.Out);
    }

    [Theory]
    [InlineData("--cache-type", "q5", "error: --cache-type: unknown KV cache type 'q5': expected one of f16, f32, q8_0, q4_0, kivi2, kivi4")]
    [InlineData("-ctk", "bogus", "error: --cache-type-k: unknown KV cache type 'bogus'")]
    [InlineData("--mem-budget", "4X", "error: --mem-budget: '4X': unknown unit 'X'")]
    [InlineData("--mem-budget", "-1G", "error: --mem-budget: '-1G' is not a positive size")]
    [InlineData("--mem-budget", "1000", "error: memory budget 1000 B is too small for this model")]
    [InlineData("--parallel", "0", "error: --parallel: expected at least 1 sequence")]
    public void Bad_options_are_one_error_line(string option, string value, string expected)
    {
        var o = _cli.Run("plan", Small(), option, value);
        Assert.Equal(1, o.ExitCode);
        Assert.StartsWith(expected, o.Error);
        Assert.Single(o.Error.TrimEnd().Split('\n'));
        Assert.Equal("", o.Out);
    }

    [Fact]
    public void A_missing_file_and_an_uncached_hub_reference_are_one_error_line()
    {
        string missing = Path.Combine(_cli.Directory, "absent.gguf");
        var o = _cli.Run("plan", missing);
        Assert.Equal((1, $"error: model file not found: '{missing}'"), (o.ExitCode, o.Error.TrimEnd()));

        var hub = _cli.Run("plan", "someone/some-model-GGUF:Q4_K_M");
        Assert.Equal(1, hub.ExitCode);
        Assert.StartsWith("error: someone/some-model-GGUF:Q4_K_M is not in the model cache", hub.Error);
        Assert.Contains("run 'frugal pull someone/some-model-GGUF:Q4_K_M' first", hub.Error);
        Assert.Single(hub.Error.TrimEnd().Split('\n'));
    }
}
