using Frugal.Inference.Engine;
using Frugal.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Frugal.Server.Endpoints;

/// <summary>POST /v1/completions: continues a raw text prompt.</summary>
internal static class CompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServerState state)
    {
        var served = state.RequireModel();
        var body = await RequestBody.ReadAsync<CompletionRequest>(context, state.Options.MaxBodyBytes);
        if (body.Prompt is not { Count: 1 }) throw ApiError.BadRequest("prompt must be one string", "prompt");
        int[] prompt = served.Tokenizer.Encode(body.Prompt[0], addSpecial: true, parseSpecial: true);
        int top = body.Logprobs ?? 0;
        if (top is < 0 or > 5) throw ApiError.BadRequest($"logprobs must be within [0, 5], got {top}", "logprobs");
        bool logprobs = body.Logprobs is not null;
        var requests = RequestMapping.ToEngineRequests(body, prompt, body.MaxTokens ?? 16, logprobs, top, state.Options.MaxChoices, served.Engine);
        var streams = CompletionRunner.Submit(served.Engine, requests, "prompt", context.RequestAborted);
        string id = CompletionRunner.NewId("cmpl");
        long created = CompletionRunner.Now;

        if (body.Stream != true)
        {
            var results = await CompletionRunner.CollectAsync(streams, context.RequestAborted);
            var choices = results.Select((r, i) => new TextChoice(i, r.Text, logprobs ? Logprobs(r.Tokens) : null, RequestMapping.FinishReason(r.Finished.Reason))).ToList();
            await Results.Json(new TextCompletion(id, created, served.Id, choices, RequestMapping.Usage(context, prompt.Length, results.Select(r => r.Finished))),
                ServerJson.Options).ExecuteAsync(context);
            return;
        }

        CompletionRunner.StartEventStream(context);
        var finished = new List<EngineFinished>();
        await foreach (var (index, e) in CompletionRunner.MergeAsync(streams, context.RequestAborted))
        {
            switch (e)
            {
                case EngineToken t when t.Text.Length > 0 || logprobs:
                    await CompletionRunner.WriteEventAsync(context, new TextCompletion(id, created, served.Id,
                        [new TextChoice(index, t.Text, logprobs ? Logprobs([t]) : null, null)], null));
                    break;
                case EngineFinished f:
                    finished.Add(f);
                    await CompletionRunner.WriteEventAsync(context, new TextCompletion(id, created, served.Id,
                        [new TextChoice(index, f.Text, null, RequestMapping.FinishReason(f.Reason))], null));
                    break;
            }
        }
        var usage = RequestMapping.Usage(context, prompt.Length, finished);
        if (body.StreamOptions?.IncludeUsage == true)
            await CompletionRunner.WriteEventAsync(context, new TextCompletion(id, created, served.Id, [], usage));
        await CompletionRunner.WriteDoneAsync(context);
    }

    private static TextLogprobs Logprobs(IReadOnlyList<EngineToken> tokens)
    {
        var offsets = new List<int>();
        int offset = 0;
        foreach (var t in tokens)
        {
            offsets.Add(offset);
            offset += t.Text.Length;
        }
        return new TextLogprobs(
            tokens.Select(t => t.Logprob!.Value.Text).ToList(),
            tokens.Select(t => t.Logprob!.Value.Logprob).ToList(),
            tokens.Select(t => (t.TopLogprobs ?? []).GroupBy(a => a.Text).ToDictionary(g => g.Key, g => g.First().Logprob)).ToList(),
            offsets);
    }
}
