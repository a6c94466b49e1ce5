using System.Net;
using Frugal.Tests.Engine;

namespace Frugal.Tests.Server;

/// <summary>Back-pressure and client disconnects over real HTTP.</summary>
public class ServerLoadTests
{
    [Fact]
    public async Task A_burst_of_200_requests_gets_only_200_or_429_with_retry_after()
    {
        await using var h = await ServerHarness.StartAsync(o => o with { Parallel = 2, MaxQueuedRequests = 4, KvBlocks = 12, ContextLength = 96 });
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await h.Http.PostAsync("v1/completions",
                ServerHarness.Json($$"""{"prompt":"request {{i}}","max_tokens":4,"temperature":0}"""));
            _ = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, response.Headers.RetryAfter?.Delta);
        }));
        Assert.All(answers, a => Assert.True(a.Item1 is 200 or 429, $"status {a.Item1}"));
        Assert.Contains(answers, a => a.Item1 == 200);
        Assert.Contains(answers, a => a.Item1 == 429);
        Assert.All(answers.Where(a => a.Item1 == 429), a => Assert.Equal(TimeSpan.FromSeconds(1), a.Delta));
        Assert.True(await ServingModels.EventuallyAsync(() => h.Server.State.Model!.Engine.Metrics.KvBlocksUsed == 0));
        Assert.DoesNotContain(h.Server.State.Responses.Keys, status => status >= 500);
        Assert.Equal(12 * 16 * 2L * 2 * 64 * 2, h.Server.State.Model!.Engine.KvBytes); // the budget in f16, allocated once
    }

    [Fact]
    public async Task Fifty_streams_dropped_mid_stream_leave_zero_kv_blocks_in_use()
    {
        await using var h = await ServerHarness.StartAsync(o => o with { Parallel = 4, MaxQueuedRequests = 64 });
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = ServerHarness.Json($$"""{"messages":[{"role":"user","content":"stream {{i}}"}],"max_tokens":120,"seed":{{i}},"stream":true}"""),
            };
            using var response = await h.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            int data = 0;
            while (data < 2 && await reader.ReadLineAsync() is { } line)
                if (line.StartsWith("data: {", StringComparison.Ordinal)) data++;
            // Disposing the response mid-stream closes the connection: the client is gone.
        }));
        Assert.True(await ServingModels.EventuallyAsync(async () => await h.MetricAsync("frugal_kv_blocks_used") == 0
            && await h.MetricAsync("frugal_running_sequences") == 0 && await h.MetricAsync("frugal_queue_depth") == 0),
            "KV blocks still in use after every client went away");
        Assert.True(await h.MetricAsync("frugal_completion_tokens_total") < 50 * 120);
    }
}

public class PrefixReuseTests
{
    [Fact]
    public async Task A_repeated_system_prompt_is_served_from_the_prefix_cache()
    {
        await using var h = await ServerHarness.StartAsync();
        string system = string.Join(' ', Enumerable.Range(0, 20).Select(i => $"rule{i % 7}"));
        string Body(string user) => $$"""{"messages":[{"role":"system","content":"{{system}}"},{"role":"user","content":"{{user}}"}],"max_tokens":2,"temperature":0}""";
        var (status1, first) = await h.PostAsync("v1/chat/completions", Body("first question"));
        var (status2, second) = await h.PostAsync("v1/chat/completions", Body("second question"));
        Assert.Equal((200, 200), (status1, status2));
        int prompt = second.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        int cached = second.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
        Assert.Equal(0, first.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.True(cached >= 32 && cached < prompt, $"{cached} of {prompt} prompt tokens cached");
        Assert.Equal(0, cached % 16); // whole blocks only
        Assert.True(await h.MetricAsync("frugal_prefix_cache_hits_total") >= 1);
        Assert.Equal(cached, await h.MetricAsync("frugal_prefix_cache_hit_tokens_total"));
    }
}
