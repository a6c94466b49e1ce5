using Frugal.Inference.Engine;
using Frugal.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Frugal.Server.Endpoints;

/// <summary>POST /v1/completions: continues raw prompts (text or token ids), each prompt n times.</summary>
internal static class CompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServerState state)
    {
        var served = state.RequireModel();
        var body = await RequestBody.ReadAsync<CompletionRequest>(context, state.Options.MaxBodyBytes);
        if (body.Prompt is not { Count: > 0 }) throw ApiError.BadRequest("prompt must hold at least one prompt", "prompt");
        int top = body.Logprobs ?? 0;
        if (top is < 0 or > 5) throw ApiError.BadRequest($"logprobs must be within [0, 5], got {top}", "logprobs");
        bool logprobs = body.Logprobs is not null;
        bool echo = body.Echo ?? false;
        // OpenAI's echo with logprobs also scores the prompt's tokens, which the engine does not compute.
        if (echo && logprobs) throw ApiError.BadRequest("echo cannot be combined with logprobs (the prompt's own log-probabilities are not computed)", "echo");
        int n = body.N ?? 1;
        if (body.Prompt.Count > 1 && (long)body.Prompt.Count * Math.Max(n, 1) > state.Options.MaxChoices)
            throw ApiError.BadRequest($"prompt count ({body.Prompt.Count}) times n ({n}) must be at most {state.Options.MaxChoices}", "prompt");
        var vote = AnswerVoting.From(body, body.Prompt.Count);
        var prompts = body.Prompt.Select((p, i) => Tokens(p, i, served)).ToList();
        // One engine request per (prompt, choice), prompt-major: choice index = prompt index * n + choice, as OpenAI numbers them.
        var requests = prompts.SelectMany(p =>
            RequestMapping.ToEngineRequests(body, p, body.MaxTokens ?? 16, logprobs || vote is not null, top, state.Options.MaxChoices, served.Engine)).ToList();
        var echoes = echo ? body.Prompt.SelectMany((p, i) => Enumerable.Repeat(p.Text ?? served.Tokenizer.Decode(prompts[i]), requests.Count / prompts.Count)).ToList() : null;
        int promptTokens = prompts.Sum(p => p.Length);
        var events = await state.Backend.StartAsync(requests, "prompt", context.RequestAborted);
        string id = CompletionRunner.NewId("cmpl");
        long created = CompletionRunner.Now;

        if (body.Stream != true)
        {
            var results = await CompletionRunner.CollectAsync(events, requests.Count, context.RequestAborted);
            var choices = results.Select((r, i) => new TextChoice(i, echoes?[i] + r.Text, logprobs ? Logprobs(r.Tokens) : null, RequestMapping.FinishReason(r.Finished.Reason))).ToList();
            await Results.Json(new TextCompletion(id, created, served.Id, choices, RequestMapping.Usage(context, promptTokens, results.Select(r => r.Finished)),
                vote?.Summarize(results)),
                ServerJson.Options).ExecuteAsync(context);
            return;
        }

        CompletionRunner.StartEventStream(context);
        for (int i = 0; echoes is not null && i < echoes.Count; i++)
            await CompletionRunner.WriteEventAsync(context, new TextCompletion(id, created, served.Id, [new TextChoice(i, echoes[i], null, null)], null));
        var finished = new List<EngineFinished>();
        await foreach (var (index, e) in events.WithCancellation(context.RequestAborted))
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
        var usage = RequestMapping.Usage(context, promptTokens, finished);
        if (body.StreamOptions?.IncludeUsage == true)
            await CompletionRunner.WriteEventAsync(context, new TextCompletion(id, created, served.Id, [], usage));
        await CompletionRunner.WriteDoneAsync(context);
    }

    /// <summary>Prompt <paramref name="index"/>'s token ids: its text tokenized, or its ids checked against the vocabulary.</summary>
    private static int[] Tokens(CompletionPrompt prompt, int index, ServedModel served)
    {
        if (prompt.Text is { } text) return served.Tokenizer.Encode(text, addSpecial: true, parseSpecial: true);
        int[] tokens = prompt.Tokens!;
        if (tokens.Length == 0) throw ApiError.BadRequest($"prompt {index} holds no token ids", "prompt");
        int vocab = served.Engine.ModelConfig.VocabSize;
        foreach (int t in tokens)
            if ((uint)t >= (uint)vocab) throw ApiError.BadRequest($"prompt {index} holds token id {t}, outside the vocabulary [0, {vocab})", "prompt");
        return tokens;
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
