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

    [Fact]
    public void Serve_reports_a_missing_model_as_a_user_error()
    {
        var error = new StringWriter();
        int code = FrugalCli.Run(["serve", "/nonexistent/model.gguf", "--port", "0"], new CliContext(new StringWriter(), error));
        Assert.Equal(1, code);
        Assert.StartsWith("error:", error.ToString());
    }
}
