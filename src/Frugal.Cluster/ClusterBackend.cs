using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Frugal.Cluster.Wire;
using Frugal.Inference.Engine;
using Frugal.Server;
using Microsoft.Extensions.Logging;

namespace Frugal.Cluster;

/// <summary>
/// A gateway's <see cref="IGenerationBackend"/>: the endpoints parse, validate and tokenize the request once, then this
/// sends its choices to the silo the <see cref="ClusterRouter"/> ranks first and streams the events back. Until the
/// first token arrives nothing has reached the client, so a silo that fails, stops, or has a full queue is simply
/// passed over for the next one; after it, a silo lost mid-way ends the client's stream with an error, never a
/// silent cut.
/// </summary>
public sealed class ClusterBackend(ClusterRouter router, IGrainFactory grains, ILogger<ClusterBackend> logger) : IGenerationBackend
{
    public async Task<IAsyncEnumerable<ChoiceEvent>> StartAsync(IReadOnlyList<EngineRequest> requests, string promptParam, CancellationToken aborted)
    {
        var wire = requests.Select(WireRequest.From).ToArray();
        var prompt = requests[0].PromptTokens;
        var tried = new List<string>();
        ApiError? lastRefusal = null;
        while (true)
        {
            var ranked = await router.RankAsync(prompt, tried, aborted);
            if (ranked.Count == 0)
                throw lastRefusal ?? new ApiError(503, tried.Count == 0
                    ? "no silo of the cluster is ready to take requests"
                    : $"no silo of the cluster could take the request ({tried.Count} tried)", "server_error", code: "cluster_unavailable") { RetryAfterSeconds = 1 };
            var choice = ranked[0];
            if (tried.Count > 0) router.Retried();
            tried.Add(choice.Silo);
            var job = new WireJob(wire, promptParam, Math.Max(0, prompt.Count - choice.HitTokens));
            router.Expect(choice);
            var events = grains.GetGrain<IEngineGrain>(choice.Silo).GenerateAsync(job).GetAsyncEnumerator(aborted);
            WireEvent first;
            try
            {
                if (!await events.MoveNextAsync())
                    throw new InvalidOperationException("the stream ended before its first event");
                first = events.Current;
            }
            catch (Exception e) when (!aborted.IsCancellationRequested)
            {
                logger.LogWarning("silo {Silo} failed before the first token ({Error}); trying another", choice.Silo, e.Message);
                router.Suspect(choice.Silo);
                // Not awaited: telling a silo that is gone would wait for the call's timeout before the next try.
                _ = DisposeQuietly(events).AsTask();
                continue;
            }
            catch
            {
                await DisposeQuietly(events);
                throw;
            }
            if (first.Kind == WireEventKind.Error)
            {
                await DisposeQuietly(events);
                var refusal = first.Error!.ToApiError();
                // A full queue or a silo shutting down is that silo's state, not the request's fault: another may take it.
                if (refusal.Status is 429 or 500 or 503)
                {
                    logger.LogInformation("silo {Silo} refused ({Status}: {Error}); trying another", choice.Silo, refusal.Status, refusal.Message);
                    lastRefusal = refusal.Status == 429 ? refusal : lastRefusal;
                    continue;
                }
                throw refusal;
            }
            router.Routed(choice.Silo);
            logger.LogDebug("routed to {Silo} ({Policy}): {Hit} of {Prompt} prompt tokens cached there, cost {Cost}",
                choice.Silo, router.Policy, choice.HitTokens, prompt.Count, choice.Cost);
            return Stream(choice.Silo, first, events, requests.Count, aborted);
        }
    }

    private static async IAsyncEnumerable<ChoiceEvent> Stream(string silo, WireEvent first, IAsyncEnumerator<WireEvent> events, int choices,
        [EnumeratorCancellation] CancellationToken aborted)
    {
        int finished = 0;
        bool broken = true;
        try
        {
            var current = first;
            while (true)
            {
                if (current.Kind == WireEventKind.Finished) finished++;
                if (current.Kind == WireEventKind.Error) throw Interrupted(silo, current.Error!.Message);
                yield return current.ToChoiceEvent();
                bool more;
                try
                {
                    more = await events.MoveNextAsync();
                }
                catch (Exception e) when (!aborted.IsCancellationRequested)
                {
                    throw Interrupted(silo, e.Message);
                }
                if (!more) break;
                current = events.Current;
            }
            if (finished < choices) throw Interrupted(silo, $"its stream ended after {finished} of {choices} choices finished");
            broken = false;
        }
        finally
        {
            // A lost silo cannot be told to stop (and waiting would hold the client's error back until a timeout); a
            // client that left early is still cancelled on the silo, without waiting for the reply.
            if (broken) _ = DisposeQuietly(events).AsTask();
            else await DisposeQuietly(events);
        }
    }

    private static ApiError Interrupted(string silo, string why) =>
        new(502, $"the silo generating this response ({silo}) failed mid-way: {why}", "server_error", code: "generation_interrupted");

    private static async ValueTask DisposeQuietly(IAsyncEnumerator<WireEvent> events)
    {
        // Disposing tells the silo to cancel; a silo that is gone cannot be told, and its engine is gone with it.
        try { await events.DisposeAsync(); }
        catch (Exception) { }
    }

    public async Task AppendMetricsAsync(StringBuilder text, CancellationToken cancellationToken)
    {
        var reports = await router.RefreshAsync(TimeSpan.FromSeconds(2), null, cancellationToken);
        var routed = router.RoutedCounts();
        static string N(double v) => v.ToString(CultureInfo.InvariantCulture);
        text.Append("# HELP frugal_cluster_silos Active silos in the cluster\n# TYPE frugal_cluster_silos gauge\n");
        text.Append("frugal_cluster_silos ").Append(router.ActiveSilos().Count).Append('\n');
        void PerSilo(string name, string type, string help, Func<SiloReport, double> value)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (silo, report) in reports)
                text.Append(name).Append("{silo=\"").Append(silo).Append("\"} ").Append(N(value(report))).Append('\n');
        }
        PerSilo("frugal_cluster_prefix_cache_hits_total", "counter", "Admissions that reused cached prefix blocks, per silo", r => r.PrefixCacheHits);
        PerSilo("frugal_cluster_prefix_cache_hit_tokens_total", "counter", "Prompt tokens served from the prefix cache, per silo", r => r.PrefixCacheHitTokens);
        PerSilo("frugal_cluster_prompt_tokens_total", "counter", "Prompt tokens of generations accepted, per silo", r => r.PromptTokens);
        PerSilo("frugal_cluster_running_sequences", "gauge", "Sequences running, per silo", r => r.RunningSequences);
        PerSilo("frugal_cluster_kv_blocks_free", "gauge", "KV blocks free, per silo", r => r.KvBlocksFree);
        text.Append("# HELP frugal_cluster_routed_total Requests this gateway sent to each silo\n# TYPE frugal_cluster_routed_total counter\n");
        foreach (var (silo, count) in routed.OrderBy(p => p.Key, StringComparer.Ordinal))
            text.Append("frugal_cluster_routed_total{silo=\"").Append(silo).Append("\"} ").Append(count).Append('\n');
        text.Append("# HELP frugal_cluster_retries_total Requests sent to another silo after one failed or refused\n# TYPE frugal_cluster_retries_total counter\n");
        text.Append("frugal_cluster_retries_total ").Append(router.Retries).Append('\n');
    }
}
