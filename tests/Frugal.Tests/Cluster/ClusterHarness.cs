using System.Text;
using System.Text.Json;
using Frugal.Cluster;
using Frugal.Inference.Engine;
using Frugal.Server;
using Frugal.Tests.Engine;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Frugal.Tests.Cluster;

/// <summary>
/// Several Frugal silos in one process (Orleans' InProcessTestCluster), each hosting the tiny model, and each silo's
/// OpenAI gateway on an ephemeral 127.0.0.1 port, exactly as <see cref="ClusterNode"/> serves it.
/// </summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    private readonly InProcessTestCluster _cluster;
    private readonly Dictionary<InProcessSiloHandle, FrugalServer> _gateways = [];

    private ClusterHarness(InProcessTestCluster cluster) => _cluster = cluster;

    public IReadOnlyList<InProcessSiloHandle> Silos => _cluster.Silos;

    public static async Task<ClusterHarness> StartAsync(int silos, RoutingPolicy routing, int parallel = 2)
    {
        var options = new ClusterNodeOptions
        {
            Server = new ServerOptions { ModelPath = ServingModels.Tiny, Port = 0, Parallel = parallel, ContextLength = 256 },
            Routing = routing,
        };
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) => silo.AddFrugalEngine(options));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var harness = new ClusterHarness(cluster);
        foreach (var silo in cluster.Silos)
        {
            var gateway = await ClusterNode.ServeGatewayAsync(silo.ServiceProvider);
            await gateway.Loaded;
            harness._gateways[silo] = gateway;
        }
        return harness;
    }

    public SiloEngine Engine(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<SiloEngine>();

    public InferenceEngine InferenceEngine(InProcessSiloHandle silo) => Engine(silo).State.Model!.Engine;

    public HttpClient Client(InProcessSiloHandle silo) => new() { BaseAddress = _gateways[silo].BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Stops a silo gracefully (its gateway first), as an operator stopping a node would.</summary>
    public async Task StopSiloAsync(InProcessSiloHandle silo)
    {
        if (_gateways.Remove(silo, out var gateway)) await gateway.DisposeAsync();
        await _cluster.StopSiloAsync(silo);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in _gateways.Values) await gateway.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    /// <summary>The outcome of one streamed request: its text, the finish reasons seen, [DONE], or the error event.</summary>
    public sealed record StreamOutcome(int Status, string Text, int Finished, bool Done, string? Error, int CachedTokens);

    public static string CompletionBody(IEnumerable<int> prompt, int maxTokens, bool stream) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = "model",
            ["prompt"] = prompt.ToArray(),
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
            ["ignore_eos"] = true,
            ["stream"] = stream,
            ["stream_options"] = new { include_usage = true },
        });

    /// <summary>POSTs a streaming /v1/completions request and reads its whole event stream.</summary>
    public static async Task<StreamOutcome> StreamAsync(HttpClient client, IEnumerable<int> prompt, int maxTokens)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions")
        {
            Content = new StringContent(CompletionBody(prompt, maxTokens, stream: true), Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        string body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 200)
            return new StreamOutcome((int)response.StatusCode, "", 0, false, JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString(), 0);
        var text = new StringBuilder();
        int finished = 0, cached = 0;
        bool done = false;
        string? error = null;
        foreach (var line in body.Split('\n'))
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            string data = line["data: ".Length..];
            if (data == "[DONE]") { done = true; continue; }
            var root = JsonDocument.Parse(data).RootElement;
            if (root.TryGetProperty("error", out var e)) { error = e.GetProperty("message").GetString(); continue; }
            foreach (var choice in root.GetProperty("choices").EnumerateArray())
            {
                if (choice.TryGetProperty("text", out var t)) text.Append(t.GetString());
                if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finished++;
            }
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                cached = usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
        }
        return new StreamOutcome(200, text.ToString(), finished, done, error, cached);
    }

    /// <summary>One sample of the Prometheus text at /metrics (name with its labels, as the line starts).</summary>
    public static async Task<double?> MetricAsync(HttpClient client, string sample)
    {
        string text = await client.GetStringAsync("metrics");
        foreach (var line in text.Split('\n'))
            if (line.StartsWith(sample + " ", StringComparison.Ordinal))
                return double.Parse(line[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return null;
    }
}
