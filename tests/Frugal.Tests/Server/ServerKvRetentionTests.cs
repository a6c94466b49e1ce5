using System.Text.Json;

namespace Frugal.Tests.Server;

/// <summary>
/// The per-request KV retention fields (kv_budget, kv_policy, context_shift, n_keep, ignore_eos) over raw HTTP: a budgeted
/// generation stays within its budget and compacts, a shifted one runs past the context to max_tokens, bad values are 400.
/// Each test starts its own server: the per-sequence block peak is counted since the engine started.
/// </summary>
public class ServerKvRetentionTests
{
    private const int BlockSize = 16;

    private static string Prompt(int words) => string.Join(' ', Enumerable.Repeat("word", words));

    [Fact]
    public async Task A_keydiff_budget_generates_every_token_compacts_and_never_holds_more_than_budget_plus_a_block()
    {
        await using var h = await ServerHarness.StartAsync();
        const int budget = 64, maxTokens = 120;
        var (status, body) = await h.PostAsync("v1/completions",
            $$"""{"prompt":"{{Prompt(40)}}","max_tokens":{{maxTokens}},"kv_budget":{{budget}},"kv_policy":"keydiff","ignore_eos":true,"temperature":0}""");
        Assert.True(status == 200, body.ToString());
        var usage = body.GetProperty("usage");
        Assert.Equal(maxTokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() + maxTokens > budget + BlockSize, usage.ToString());
        Assert.Equal("length", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        Assert.True(await h.MetricAsync("frugal_kv_compactions_total") >= 1);
        double peak = await h.MetricAsync("frugal_kv_blocks_per_sequence_peak");
        Assert.InRange(peak, 1, (budget + BlockSize) / BlockSize);
    }

    [Fact]
    public async Task Context_shift_with_n_keep_runs_past_a_small_context_to_max_tokens()
    {
        await using var h = await ServerHarness.StartAsync(o => o with { ContextLength = 64 });
        const int maxTokens = 150;
        var (status, body) = await h.PostAsync("v1/chat/completions",
            $$"""{"messages":[{"role":"user","content":"hi"}],"max_tokens":{{maxTokens}},"context_shift":true,"n_keep":4,"ignore_eos":true,"temperature":0}""");
        Assert.True(status == 200, body.ToString());
        Assert.Equal("length", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(maxTokens, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.True(await h.MetricAsync("frugal_kv_compactions_total") >= 1);
        Assert.InRange(await h.MetricAsync("frugal_kv_blocks_per_sequence_peak"), 1, 64 / BlockSize);
    }

    [Theory]
    [InlineData("v1/chat/completions", "\"kv_policy\":\"lru\"", "kv_policy")]
    [InlineData("v1/completions", "\"kv_policy\":\"lru\"", "kv_policy")]
    [InlineData("v1/chat/completions", "\"kv_budget\":-5", "kv_budget")]
    [InlineData("v1/completions", "\"kv_budget\":-5", "kv_budget")]
    [InlineData("v1/chat/completions", "\"n_keep\":\"x\"", "n_keep")]
    [InlineData("v1/completions", "\"n_keep\":\"x\"", "n_keep")]
    public async Task A_bad_retention_field_is_400_naming_it(string path, string field, string name)
    {
        await using var h = await ServerHarness.StartAsync();
        string json = path.EndsWith("chat/completions", StringComparison.Ordinal)
            ? $$"""{"messages":[{"role":"user","content":"hi"}],"max_tokens":4,{{field}}}"""
            : $$"""{"prompt":"hi","max_tokens":4,{{field}}}""";
        var (status, body) = await h.PostAsync(path, json);
        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(name, error.GetProperty("param").GetString());
        Assert.Contains(name, error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("v1/chat/completions", "messages")]
    [InlineData("v1/completions", "prompt")]
    public async Task A_prompt_longer_than_the_context_is_400_naming_the_prompt_field_as_context_length_exceeded(string path, string param)
    {
        await using var h = await ServerHarness.StartAsync(o => o with { ContextLength = 64 });
        string text = Prompt(200);
        string json = param == "messages"
            ? $$"""{"messages":[{"role":"user","content":"{{text}}"}],"max_tokens":4}"""
            : $$"""{"prompt":"{{text}}","max_tokens":4}""";
        var (status, body) = await h.PostAsync(path, json);
        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Matches(@"the prompt is \d+ tokens but the context holds 64", error.GetProperty("message").GetString());

        // Under a KV budget the same prompt is accepted: it is evicted as it is read.
        string budgeted = json.Replace("\"max_tokens\":4", "\"max_tokens\":4,\"kv_budget\":32");
        var (ok, okBody) = await h.PostAsync(path, budgeted);
        Assert.True(ok == 200, okBody.ToString());
    }
}
