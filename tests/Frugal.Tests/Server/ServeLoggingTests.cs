using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Frugal.Cli;
using Frugal.Tests.Engine;

namespace Frugal.Tests.Server;

/// <summary><c>frugal serve</c> without MODEL, and its log: one line per request with status, tokens and time, as text or JSON.</summary>
public class ServeLoggingTests
{
    /// <summary>Runs serve in-process until <paramref name="use"/> is done; returns stderr.</summary>
    private static async Task<string> ServeAsync(string[] args, Func<HttpClient, Task> use, string? defaultModel = null)
    {
        var error = new StringWriter();
        var log = TextWriter.Synchronized(error);
        using var cancel = new CancellationTokenSource();
        var context = new CliContext(TextWriter.Synchronized(new StringWriter()), log)
        {
            Cancellation = cancel.Token,
            DefaultModelPath = defaultModel ?? ServingModels.Tiny,
            ErrorIsTerminal = false,
        };
        var run = Task.Run(() => FrugalCli.Run(["serve", .. args, "--port", "0", "--parallel", "2", "--ctx", "128"], context));
        Assert.True(await ServingModels.EventuallyAsync(() => { lock (log) return error.ToString().Contains("ready:") || run.IsCompleted; }), "serve never became ready");
        string text;
        lock (log) text = error.ToString();
        Assert.False(run.IsCompleted, text);
        var url = Regex.Match(text, @"listening on (http://[^\s""]+)").Groups[1].Value;
        using (var http = new HttpClient { BaseAddress = new Uri(url) })
            await use(http);
        cancel.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        lock (log) return error.ToString();
    }

    private static async Task<JsonElement> CompleteAsync(HttpClient http)
    {
        using var response = await http.PostAsync("v1/completions",
            new StringContent("""{"prompt":"hello there","max_tokens":5,"temperature":0}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task Serve_without_a_model_serves_the_built_in_one()
    {
        JsonElement models = default;
        string log = await ServeAsync([], async http => models = JsonDocument.Parse(await http.GetStringAsync("v1/models")).RootElement.Clone());
        string id = Path.GetFileNameWithoutExtension(ServingModels.Tiny);
        Assert.Contains($"ready: {id}, context 128", log);
        Assert.Equal(id, models.GetProperty("data")[0].GetProperty("id").GetString());
    }

    [Fact]
    public void Serve_without_a_model_and_no_built_in_one_says_so()
    {
        var error = new StringWriter();
        string missing = Path.Combine(Path.GetTempPath(), "frugal-no-such-dir", "frugal-main.gguf");
        int code = FrugalCli.Run(["serve", "--port", "0"], new CliContext(new StringWriter(), error) { DefaultModelPath = missing });
        Assert.Equal((1, $"error: no MODEL given and the built-in model is missing at '{missing}': give the path of a GGUF file"), (code, error.ToString().TrimEnd()));
    }

    [Fact]
    public async Task Text_log_has_one_line_per_request_with_status_and_tokens()
    {
        JsonElement body = default;
        string log = await ServeAsync(["--api-key", "k"], async http =>
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/models")).StatusCode);
            http.DefaultRequestHeaders.Authorization = new("Bearer", "k");
            body = await CompleteAsync(http);
        });
        var usage = body.GetProperty("usage");
        Assert.Matches(@"info: Frugal\.Server\[0\] GET /v1/models 401 \d+(\.\d)? ms", log);
        Assert.Matches($@"info: Frugal\.Server\[0\] POST /v1/completions 200 \d+(\.\d)? ms prompt_tokens={usage.GetProperty("prompt_tokens").GetInt32()} completion_tokens={usage.GetProperty("completion_tokens").GetInt32()}", log);
        Assert.Matches(@"info: Frugal\.Server\[0\] loaded \S+ from .+ in \d+ ms: context 128, 2 parallel", log);
        Assert.DoesNotContain("GET /health", log); // probes are Debug
    }

    [Fact]
    public async Task Json_log_is_one_object_per_line_with_the_request_fields()
    {
        JsonElement body = default;
        string log = await ServeAsync(["--log-format", "json"], async http => body = await CompleteAsync(http));
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var entries = lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList(); // every line parses
        Assert.Contains(entries, e => e.GetProperty("Message").GetString()!.StartsWith("ready: ", StringComparison.Ordinal));
        var request = Assert.Single(entries, e => e.GetProperty("Category").GetString() == "Frugal.Server"
            && e.GetProperty("State").TryGetProperty("Path", out var p) && p.GetString() == "/v1/completions");
        var state = request.GetProperty("State");
        Assert.Equal("Information", request.GetProperty("LogLevel").GetString());
        Assert.Equal("POST", state.GetProperty("Method").GetString());
        Assert.Equal(200, state.GetProperty("Status").GetInt32());
        Assert.Equal(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), state.GetProperty("PromptTokens").GetInt32());
        Assert.Equal(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), state.GetProperty("CompletionTokens").GetInt32());
        Assert.True(state.GetProperty("ElapsedMs").GetDouble() >= 0);
    }

    [Fact]
    public void An_unknown_log_format_is_refused_naming_the_choices()
    {
        var error = new StringWriter();
        int code = FrugalCli.Run(["serve", ServingModels.Tiny, "--log-format", "xml"], new CliContext(new StringWriter(), error));
        Assert.NotEqual(0, code);
        Assert.Contains("'xml'", error.ToString());
        Assert.Contains("'json'", error.ToString());
    }
}
