using System.ClientModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Frugal.Server;
using Frugal.Tests.Engine;
using OpenAI;

namespace Frugal.Tests.Server;

/// <summary>A real server on an ephemeral 127.0.0.1 port over the tiny ChatML model, with an SDK client and raw HTTP.</summary>
public sealed class ServerHarness : IAsyncDisposable
{
    private ServerHarness(FrugalServer server, string? apiKey)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null) Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        Credential = new ApiKeyCredential(apiKey ?? "unused");
        ClientOptions = new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") };
        OpenAI = new OpenAIClient(Credential, ClientOptions);
    }

    public FrugalServer Server { get; }

    public HttpClient Http { get; }

    public OpenAIClient OpenAI { get; }

    public ApiKeyCredential Credential { get; }

    public OpenAIClientOptions ClientOptions { get; }

    public const string ModelId = "model";

    public static async Task<ServerHarness> StartAsync(Func<ServerOptions, ServerOptions>? configure = null, bool waitForModel = true)
    {
        var options = new ServerOptions { ModelPath = ServingModels.Tiny, Port = 0, Parallel = 4, ContextLength = 256 };
        if (configure is not null) options = configure(options);
        var server = await FrugalServer.StartAsync(options);
        if (waitForModel) await server.Loaded;
        return new ServerHarness(server, options.ApiKey);
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public async Task<(int Status, JsonElement Body)> PostAsync(string path, string json)
    {
        using var response = await Http.PostAsync(path, Json(json));
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<(int Status, JsonElement Body)> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>One sample of the Prometheus text at /metrics.</summary>
    public async Task<double> MetricAsync(string name)
    {
        string text = await Http.GetStringAsync("metrics");
        foreach (var line in text.Split('\n'))
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
                return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException($"/metrics has no sample {name}:\n{text}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
