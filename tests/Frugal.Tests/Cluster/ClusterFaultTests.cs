using Xunit.Abstractions;
using Frugal.Cluster;
using Frugal.Tests.Engine;

namespace Frugal.Tests.Cluster;

/// <summary>A silo stopped while it generates: the others keep answering, nothing is lost or leaked.</summary>
public sealed class ClusterFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Stopping_a_silo_mid_run_ends_every_request_complete_or_with_an_error_and_leaks_no_blocks()
    {
        // One sequence at a time per silo, requests handed out in turn: the stopped silo has one running and some queued.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var cluster = await ClusterHarness.StartAsync(silos: 3, RoutingPolicy.RoundRobin, parallel: 1);
        output.WriteLine($"cluster up after {clock.Elapsed.TotalSeconds:F1} s");
        var silos = cluster.Silos.ToArray();
        var victim = silos[2];
        var victimEngine = cluster.InferenceEngine(victim);
        using var client = cluster.Client(silos[0]);

        const int requests = 12, maxTokens = 200;
        var prompts = Enumerable.Range(0, requests).Select(r => Enumerable.Range(0, 8).Select(i => 3 + (r * 37 + i * 11) % 500).ToArray()).ToArray();
        var outcomes = prompts.Select(p => ClusterHarness.StreamAsync(client, p, maxTokens)).ToArray();

        // Stop the victim once it has generated for one of them and holds more.
        Assert.True(await ServingModels.EventuallyAsync(() => Task.FromResult(
            victimEngine.Metrics.CompletionTokens + victimEngine.Metrics.RunningSequences > 0 && victimEngine.Metrics.Requests >= 2), seconds: 60),
            "the victim silo never received its share of the requests");
        output.WriteLine($"stopping the victim after {clock.Elapsed.TotalSeconds:F1} s");
        await cluster.StopSiloAsync(victim);
        output.WriteLine($"victim stopped after {clock.Elapsed.TotalSeconds:F1} s");

        var results = await Task.WhenAll(outcomes);
        output.WriteLine($"all answered after {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var r in results)
        {
            bool complete = r.Status == 200 && r.Done && r.Error is null && r.Finished == 1;
            bool failedClearly = r.Error is not null && !r.Done;
            Assert.True(complete || failedClearly, $"neither a complete answer nor a clear error: {r}");
            if (r.Error is not null) Assert.Contains("failed mid-way", r.Error);
        }
        // Only the sequence the victim was running when it stopped can be cut; queued ones went to the other silos.
        Assert.InRange(results.Count(r => r.Error is not null), 0, 1);

        // The cluster keeps answering, through either surviving gateway, without the victim.
        foreach (var silo in silos[..2])
        {
            using var c = cluster.Client(silo);
            var after = await ClusterHarness.StreamAsync(c, [5, 6, 7, 8, 9], 8);
            Assert.True(after.Done && after.Finished == 1, after.Error);
            Assert.Equal(2, await ClusterHarness.MetricAsync(c, "frugal_cluster_silos"));
        }

        // Nothing left allocated on the survivors: every KV block is free again.
        foreach (var silo in silos[..2])
        {
            var engine = cluster.InferenceEngine(silo);
            Assert.True(await ServingModels.EventuallyAsync(() => Task.FromResult(engine.Metrics.RunningSequences == 0 && engine.Metrics.KvBlocksUsed == 0)),
                $"silo still holds {engine.Metrics.KvBlocksUsed} KV blocks and {engine.Metrics.RunningSequences} sequences");
            Assert.Equal(0, engine.Metrics.QueueDepth);
        }
    }
}
