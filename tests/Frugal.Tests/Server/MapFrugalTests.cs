using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Frugal.Server;
using Frugal.Tests.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Frugal.Tests.Server;

/// <summary>app.MapFrugal(...) in an ASP.NET Core app of one's own: the same endpoints frugal serve has, beside the app's.</summary>
public class MapFrugalTests
{
    private sealed class Collected : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose() { }

        private sealed class Logger(Collected owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }

    [Fact]
    public async Task A_host_app_serves_completions_through_MapFrugal_beside_its_own_routes()
    {
        var logs = new Collected();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/hello", () => "hello from the host");
        var state = app.MapFrugal(new ServerOptions { ModelPath = ServingModels.Tiny, ContextLength = 128, Parallel = 2, ApiKey = "secret" });
        await app.StartAsync();
        await state.Loaded!;
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Assert.Equal("hello from the host", await http.GetStringAsync("hello"));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/models")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "secret");
        using var response = await http.PostAsync("v1/chat/completions", new StringContent(
            """{"model":"x","messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"temperature":0}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var usage = body.RootElement.GetProperty("usage");
        int prompt = usage.GetProperty("prompt_tokens").GetInt32(), completion = usage.GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completion, 1, 4);

        var lines = logs.Entries.ToList();
        Assert.Contains(lines, e => e.Category == FrugalEndpoints.LogCategory && e.Level == LogLevel.Information
            && e.Message.StartsWith($"POST /v1/chat/completions 200 ", StringComparison.Ordinal)
            && e.Message.EndsWith($" ms prompt_tokens={prompt} completion_tokens={completion}", StringComparison.Ordinal));
        Assert.Contains(lines, e => e.Category == FrugalEndpoints.LogCategory && e.Message.StartsWith("GET /v1/models 401 ", StringComparison.Ordinal));
        // The engine's own Debug line for the finished sequence carries the same counts.
        Assert.True(await ServingModels.EventuallyAsync(() => logs.Entries.Any(e => e.Category.EndsWith("InferenceEngine", StringComparison.Ordinal)
            && e.Message.Contains($"{prompt} prompt tokens", StringComparison.Ordinal) && e.Message.EndsWith($"{completion} generated", StringComparison.Ordinal))));

        await app.StopAsync();
        Assert.Null(state.Model); // released with the app
    }

    [Fact]
    public async Task A_model_that_fails_to_load_is_a_503_naming_the_cause()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        string absent = Path.Combine(Path.GetTempPath(), "frugal-absent-" + Guid.NewGuid().ToString("N") + ".gguf");
        var state = app.MapFrugal(new ServerOptions { ModelPath = absent });
        await app.StartAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => state.Loaded!);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        using var response = await http.GetAsync("v1/models");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains(absent.Replace("\\", "\\\\"), await response.Content.ReadAsStringAsync());
        await app.StopAsync();
    }
}
