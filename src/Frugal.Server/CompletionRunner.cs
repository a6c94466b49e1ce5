using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Frugal.Inference.Engine;
using Microsoft.AspNetCore.Http;

namespace Frugal.Server;

/// <summary>
/// Runs the n choices of one request on the engine: submits them together (all or none), then either collects them
/// or merges their events into one server-sent-event stream. The request's abort token cancels every choice.
/// </summary>
internal static class CompletionRunner
{
    /// <param name="promptParam">the request field that holds the prompt ("messages" or "prompt"), named when it is too long.</param>
    public static IReadOnlyList<EngineStream> Submit(InferenceEngine engine, IReadOnlyList<EngineRequest> requests, string promptParam, CancellationToken aborted)
    {
        var streams = new List<EngineStream>();
        try
        {
            // Choices of one prompt go in as one sample group: the prompt is computed once and its KV blocks forked.
            foreach (var group in Groups(requests))
                streams.AddRange(engine.Submit(group, aborted));
            return streams;
        }
        catch (Exception e)
        {
            foreach (var s in streams) s.Cancel();
            throw e switch
            {
                EngineOverloadedException => new ApiError(429, e.Message, "rate_limit_error", code: "queue_full") { RetryAfterSeconds = 1 },
                // As OpenAI answers a prompt longer than the context.
                ContextLengthExceededException => new ApiError(400, e.Message, param: promptParam, code: "context_length_exceeded"),
                ArgumentException => ApiError.BadRequest(e.Message, "max_tokens"),
                _ => e,
            };
        }
    }

    /// <summary>Consecutive requests with the same prompt (the n choices of one prompt, prompt-major).</summary>
    private static IEnumerable<List<EngineRequest>> Groups(IReadOnlyList<EngineRequest> requests)
    {
        var group = new List<EngineRequest>();
        foreach (var r in requests)
        {
            if (group.Count > 0 && !ReferenceEquals(group[0].PromptTokens, r.PromptTokens) && !group[0].PromptTokens.SequenceEqual(r.PromptTokens))
            {
                yield return group;
                group = [];
            }
            group.Add(r);
        }
        if (group.Count > 0) yield return group;
    }

    /// <summary>Reads the events of <paramref name="choices"/> choices into one result each.</summary>
    public static async Task<EngineCompletion[]> CollectAsync(IAsyncEnumerable<ChoiceEvent> events, int choices, CancellationToken aborted)
    {
        var texts = Enumerable.Range(0, choices).Select(_ => new StringBuilder()).ToArray();
        var tokens = Enumerable.Range(0, choices).Select(_ => new List<EngineToken>()).ToArray();
        var results = new EngineCompletion?[choices];
        await foreach (var (index, e) in events.WithCancellation(aborted))
        {
            switch (e)
            {
                case EngineToken t:
                    tokens[index].Add(t);
                    texts[index].Append(t.Text);
                    break;
                case EngineFinished f:
                    texts[index].Append(f.Text);
                    results[index] = new EngineCompletion(texts[index].ToString(), tokens[index], f);
                    break;
            }
        }
        return results.Select((r, i) => r ?? throw new InvalidOperationException($"choice {i} ended without a finish event")).ToArray();
    }

    /// <summary>Events of all choices as they come, tagged with the choice index.</summary>
    public static async IAsyncEnumerable<ChoiceEvent> MergeAsync(IReadOnlyList<EngineStream> streams,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken aborted)
    {
        var merged = Channel.CreateUnbounded<ChoiceEvent>();
        var pumps = streams.Select(async (s, i) =>
        {
            await foreach (var e in s.ReadAllAsync(aborted))
                await merged.Writer.WriteAsync(new ChoiceEvent(i, e), aborted);
        }).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(t => merged.Writer.TryComplete(t.Exception), TaskScheduler.Default);
        await foreach (var item in merged.Reader.ReadAllAsync(aborted))
            yield return item;
    }

    public static void StartEventStream(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
    }

    public static async Task WriteEventAsync<T>(HttpContext context, T payload)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(payload, ServerJson.Options);
        var body = context.Response.Body;
        await body.WriteAsync("data: "u8.ToArray(), context.RequestAborted);
        await body.WriteAsync(bytes, context.RequestAborted);
        await body.WriteAsync("\n\n"u8.ToArray(), context.RequestAborted);
        await body.FlushAsync(context.RequestAborted);
    }

    public static async Task WriteDoneAsync(HttpContext context)
    {
        await context.Response.Body.WriteAsync(Encoding.ASCII.GetBytes("data: [DONE]\n\n"), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
