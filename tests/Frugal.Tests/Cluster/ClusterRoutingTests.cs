using Frugal.Cluster;

namespace Frugal.Tests.Cluster;

/// <summary>KV-cache-aware routing over three in-process silos: a prompt goes where its prefix is cached.</summary>
public sealed class ClusterRoutingTests
{
    // Token ids of the tiny model's vocabulary (512): a 96-token "system prompt" (6 KV blocks of 16) per tenant.
    private static int[] SystemPrompt(int tenant) => Enumerable.Range(0, 96).Select(i => 3 + (i * 7 + tenant * 31) % 500).ToArray();

    private static int[] Question(int tenant, int q) => [.. SystemPrompt(tenant), .. Enumerable.Range(0, 5).Select(i => 3 + (q * 13 + i * 5) % 500)];

    [Fact]
    public async Task A_request_sharing_a_prefix_lands_on_the_silo_that_served_it_whichever_gateway_takes_it()
    {
        await using var cluster = await ClusterHarness.StartAsync(silos: 3, RoutingPolicy.Kv);
        var silos = cluster.Silos;
        var clients = silos.Select(cluster.Client).ToArray();

        for (int tenant = 0; tenant < 2; tenant++)
        {
            long[] before = silos.Select(s => cluster.InferenceEngine(s).Metrics.Requests).ToArray();
            var first = await ClusterHarness.StreamAsync(clients[0], Question(tenant, 0), maxTokens: 4);
            Assert.True(first.Done, first.Error);
            Assert.Equal(0, first.CachedTokens);
            int served = Enumerable.Range(0, silos.Count).Single(i => cluster.InferenceEngine(silos[i]).Metrics.Requests == before[i] + 1);

            // Later questions of the same tenant, through each of the other gateways: same silo, prefix from its cache.
            for (int g = 1; g < clients.Length; g++)
            {
                long hitsBefore = cluster.InferenceEngine(silos[served]).Metrics.PrefixCacheHits;
                var next = await ClusterHarness.StreamAsync(clients[g], Question(tenant, g), maxTokens: 4);
                Assert.True(next.Done, next.Error);
                Assert.Equal(96, next.CachedTokens); // the 6 whole blocks of the system prompt
                Assert.Equal(hitsBefore + 1, cluster.InferenceEngine(silos[served]).Metrics.PrefixCacheHits);
            }
            Assert.Equal(before[served] + clients.Length, cluster.InferenceEngine(silos[served]).Metrics.Requests);
        }

        // Every gateway's /metrics counts the cluster and reports each silo's prefix-cache hits.
        Assert.Equal(3, await ClusterHarness.MetricAsync(clients[1], "frugal_cluster_silos"));
        double hits = 0;
        foreach (var silo in silos)
            hits += await ClusterHarness.MetricAsync(clients[1], $"frugal_cluster_prefix_cache_hits_total{{silo=\"{cluster.Engine(silo).SiloKey}\"}}") ?? double.NaN;
        Assert.Equal(4, hits); // two tenants, two repeat questions each
    }
}
