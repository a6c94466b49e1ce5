using System.Globalization;
using System.Text;
using Frugal.Inference.Engine;
using Frugal.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Frugal.Server.Endpoints;

/// <summary>GET /v1/models, /health and /metrics.</summary>
internal static class InfoEndpoints
{
    public static IResult Models(ServerState state)
    {
        var served = state.RequireModel();
        return Results.Json(new ModelList([new ModelEntry(served.Id, served.Created)]), ServerJson.Options);
    }

    /// <summary>503 until the model is loaded, then 200.</summary>
    public static IResult Health(ServerState state) => state.Model is null
        ? Results.Json(new { status = state.LoadError is null ? "loading" : "error" }, ServerJson.Options, statusCode: 503)
        : Results.Json(new { status = "ok" }, ServerJson.Options);

    /// <summary>Prometheus text exposition format 0.0.4.</summary>
    public static async Task<IResult> MetricsAsync(ServerState state, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        void Metric(string name, string type, string help, double value)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            text.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        void Histogram(string name, string help, LatencyHistogram h)
        {
            var (cumulative, count, sum) = h.Snapshot();
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(" histogram\n");
            for (int i = 0; i < cumulative.Length; i++)
                text.Append(name).Append("_bucket{le=\"").Append(h.UpperBounds[i].ToString(CultureInfo.InvariantCulture)).Append("\"} ").Append(cumulative[i]).Append('\n');
            text.Append(name).Append("_bucket{le=\"+Inf\"} ").Append(count).Append('\n');
            text.Append(name).Append("_sum ").Append(sum.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append(name).Append("_count ").Append(count).Append('\n');
        }

        text.Append("# HELP frugal_http_responses_total HTTP responses by status code\n# TYPE frugal_http_responses_total counter\n");
        foreach (var (status, count) in state.Responses.OrderBy(p => p.Key))
            text.Append("frugal_http_responses_total{code=\"").Append(status).Append("\"} ").Append(count).Append('\n');
        Metric("frugal_model_loaded", "gauge", "1 once the model is loaded", state.Model is null ? 0 : 1);
        if (state.Model is { } served)
        {
            var m = served.Engine.Metrics;
            Metric("frugal_requests_total", "counter", "Generations accepted by the engine (one per choice)", m.Requests);
            Metric("frugal_requests_rejected_total", "counter", "Generations refused because the queue was full", m.RejectedRequests);
            Metric("frugal_prompt_tokens_total", "counter", "Prompt tokens of accepted generations", m.PromptTokens);
            Metric("frugal_completion_tokens_total", "counter", "Tokens generated", m.CompletionTokens);
            Metric("frugal_queue_depth", "gauge", "Generations waiting for their first step", m.QueueDepth);
            Metric("frugal_running_sequences", "gauge", "Sequences holding KV blocks", m.RunningSequences);
            Metric("frugal_kv_blocks_used", "gauge", "KV blocks in use", m.KvBlocksUsed);
            Metric("frugal_kv_blocks_free", "gauge", "KV blocks free (some hold reusable cached prefixes)", m.KvBlocksFree);
            Metric("frugal_prefix_cache_hits_total", "counter", "Admissions that reused cached prefix blocks", m.PrefixCacheHits);
            Metric("frugal_prefix_cache_hit_tokens_total", "counter", "Prompt tokens served from the prefix cache", m.PrefixCacheHitTokens);
            Metric("frugal_preemptions_total", "counter", "Sequences preempted to free KV memory", m.Preemptions);
            Metric("frugal_kv_compactions_total", "counter", "KV compactions (context shifts and budget evictions)", m.KvCompactions);
            Metric("frugal_spec_drafted_tokens_total", "counter", "Tokens drafted by speculative decoding and verified", m.SpeculativeDrafted);
            Metric("frugal_spec_accepted_tokens_total", "counter", "Drafted tokens the model accepted", m.SpeculativeAccepted);
            Metric("frugal_forked_samples_total", "counter", "samples that forked another sample's prompt KV blocks (n > 1) instead of computing the prompt", m.ForkedSamples);
            Metric("frugal_kv_blocks_per_sequence_peak", "gauge", "Most KV blocks one sequence has held at the end of a step", m.KvBlocksPerSequencePeak);
            Metric("frugal_engine_steps_total", "counter", "Batched forward steps", m.Steps);
            Histogram("frugal_time_to_first_token_seconds", "Time from submission to the first generated token", m.TimeToFirstToken);
            Histogram("frugal_time_per_output_token_seconds", "Time between consecutive generated tokens of a sequence", m.InterTokenLatency);
        }
        await state.Backend.AppendMetricsAsync(text, cancellationToken);
        return Results.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }
}
