using System.Net;
using System.Text.RegularExpressions;
using Frugal.Cli;
using Frugal.Tests.Engine;

namespace Frugal.Tests.Server;

public class ServeCommandTests
{
    [Fact]
    public async Task Serve_listens_on_loopback_answers_health_and_stops_on_cancel()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var log = TextWriter.Synchronized(error);
        using var cancel = new CancellationTokenSource();
        var context = new CliContext(TextWriter.Synchronized(output), log) { Cancellation = cancel.Token };
        var run = Task.Run(() => FrugalCli.Run(["serve", ServingModels.Tiny, "--port", "0", "--parallel", "2", "--ctx", "128", "--api-key", "k"], context));

        Assert.True(await ServingModels.EventuallyAsync(() => { lock (log) return error.ToString().Contains("ready:") || run.IsCompleted; }), "serve never became ready");
        string text;
        lock (log) text = error.ToString();
        var url = Regex.Match(text, @"listening on (http://\S+)").Groups[1].Value;
        Assert.StartsWith("http://127.0.0.1:", url);
        Assert.Contains("context 128, 2 parallel", text);
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/models")).StatusCode);
        // The chat page needs no key (the API behind it does), and the log says where it is.
        Assert.Contains($"web chat at {url} ", text);
        using (var page = await http.GetAsync(""))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        }

        cancel.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Starts <c>frugal serve</c> with <paramref name="extra"/>, asks one greedy completion, returns its text and the log.</summary>
    private static async Task<(string Text, string Log)> ServeOnceAsync(string model, string[] extra, string body)
    {
        var error = new StringWriter();
        var log = TextWriter.Synchronized(error);
        using var cancel = new CancellationTokenSource();
        var context = new CliContext(TextWriter.Synchronized(new StringWriter()), log) { Cancellation = cancel.Token };
        var run = Task.Run(() => FrugalCli.Run(["serve", model, "--port", "0", "--parallel", "2", "--ctx", "128", .. extra], context));
        Assert.True(await ServingModels.EventuallyAsync(() => { lock (log) return error.ToString().Contains("ready:") || run.IsCompleted; }), "serve never became ready");
        string text;
        lock (log) text = error.ToString();
        Assert.False(run.IsCompleted, text);
        var url = Regex.Match(text, @"listening on (http://\S+)").Groups[1].Value;
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        using var response = await http.PostAsync("v1/completions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, json);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        cancel.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        return (doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!, text);
    }

    [Fact]
    public async Task Serve_under_a_memory_budget_streams_layers_and_answers_as_without_it()
    {
        // The ~36 MB Q8_0 file of the budget tests, served with 20 MiB of weights: layers stream on every step.
        string model = Frugal.Tests.Models.SyntheticFixtures.PathOf(Frugal.Tests.Models.MemoryBudgetTests.Spec(tied: false));
        string prompt = string.Join(",", Enumerable.Range(0, 24).Select(i => (i * 131 + 7) % 4096));
        string body = $$"""{"model":"m","prompt":[{{prompt}}],"max_tokens":8,"temperature":0,"ignore_eos":true}""";
        var (plain, plainLog) = await ServeOnceAsync(model, [], body);
        var (budgeted, budgetLog) = await ServeOnceAsync(model, ["--mem-budget", "20M"], body);
        Assert.DoesNotContain("weights: budget", plainLog);
        string weights = budgetLog.Split('\n').FirstOrDefault(l => l.StartsWith("weights: ", StringComparison.Ordinal)) ?? budgetLog;
        Assert.True(Regex.IsMatch(weights, @"^weights: budget 20\.00 MiB \| resident [^|]* \(\d/8 layers\) [^|]*\| streamed \S+ \S+ per step \([1-9]\d* layers"), weights);
        Assert.NotEmpty(plain);
        Assert.Equal(plain, budgeted);
    }

    [Fact]
    public void Serve_reports_a_missing_model_as_a_user_error()
    {
        var error = new StringWriter();
        int code = FrugalCli.Run(["serve", "/nonexistent/model.gguf", "--port", "0"], new CliContext(new StringWriter(), error));
        Assert.Equal(1, code);
        Assert.StartsWith("error:", error.ToString());
    }
}
