using System.Net;
using System.Text.Json;
using Frugal.Server;

namespace Frugal.Tests.Server;

public sealed class KeyedServer : IAsyncLifetime
{
    public const string Key = "sk-test-123";

    public ServerHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Harness = await ServerHarness.StartAsync(o => o with { ApiKey = Key, ContextLength = 64, MaxBodyBytes = 4096 });

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>Every refusal is an OpenAI error object with the right status, checked over raw HTTP.</summary>
public class ServerErrorTests(KeyedServer shared) : IClassFixture<KeyedServer>
{
    private readonly ServerHarness _h = shared.Harness;

    private static void AssertError(JsonElement body, string type)
    {
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(type, error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Missing_or_wrong_api_key_is_401_but_health_is_open()
    {
        using var anonymous = new HttpClient { BaseAddress = _h.Server.BaseAddress };
        using var missing = await anonymous.PostAsync("v1/chat/completions", ServerHarness.Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        AssertError(JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement, "authentication_error");
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _h.Http.GetAsync("v1/models")).StatusCode);
    }

    [Theory]
    [InlineData("v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}""", "$")]   // malformed JSON
    [InlineData("v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}""", "max_tokens")]
    [InlineData("v1/chat/completions", """{"messages":"hi"}""", "messages")]
    [InlineData("v1/completions", """{"prompt":"hi","temperature":"hot"}""", "temperature")]
    [InlineData("v1/completions", """{"prompt":"hi","stream":1}""", "stream")]
    public async Task Malformed_json_or_a_field_of_the_wrong_type_is_400(string path, string json, string mentioned)
    {
        var (status, body) = await _h.PostAsync(path, json);
        Assert.Equal(400, status);
        AssertError(body, "invalid_request_error");
        Assert.Contains(mentioned, body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Max_tokens_or_a_prompt_beyond_the_context_is_400()
    {
        var (status, body) = await _h.PostAsync("v1/completions", """{"prompt":"hi","max_tokens":100}""");
        Assert.Equal(400, status);
        Assert.Contains("context of 64", body.GetProperty("error").GetProperty("message").GetString());

        string longPrompt = string.Join(' ', Enumerable.Repeat("word", 80));
        (status, body) = await _h.PostAsync("v1/chat/completions", $$"""{"messages":[{"role":"user","content":"{{longPrompt}}"}]}""");
        Assert.Equal(400, status);
        AssertError(body, "invalid_request_error");
        Assert.Contains("context", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Out_of_range_sampling_fields_are_400_naming_the_field()
    {
        foreach (var (field, value) in new[] { ("temperature", "3"), ("top_p", "0"), ("n", "0"), ("presence_penalty", "5"), ("top_logprobs", "50") })
        {
            var (status, body) = await _h.PostAsync("v1/chat/completions", $$"""{"messages":[{"role":"user","content":"hi"}],"logprobs":true,"{{field}}":{{value}}}""");
            Assert.Equal(400, status);
            Assert.Equal(field, body.GetProperty("error").GetProperty("param").GetString());
        }
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        string big = new('a', 10_000);
        var (status, body) = await _h.PostAsync("v1/completions", $$"""{"prompt":"{{big}}"}""");
        Assert.Equal(413, status);
        AssertError(body, "invalid_request_error");
    }

    [Fact]
    public async Task Health_is_503_while_no_model_is_loaded()
    {
        await using var broken = await ServerHarness.StartAsync(o => o with { ModelPath = Path.Combine(Path.GetTempPath(), "no-such-model.gguf") }, waitForModel: false);
        await Assert.ThrowsAnyAsync<Exception>(() => broken.Server.Loaded);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await broken.Http.GetAsync("health")).StatusCode);
        var (status, body) = await broken.PostAsync("v1/completions", """{"prompt":"hi"}""");
        Assert.Equal(503, status);
        AssertError(body, "server_error");
    }
}
