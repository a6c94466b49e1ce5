using Frugal.Inference.Engine;
using Frugal.Server.Protocol;
using Frugal.Tokenization;
using Frugal.Tokenization.ChatTemplates;
using Microsoft.AspNetCore.Http;

namespace Frugal.Server.Endpoints;

/// <summary>POST /v1/chat/completions: renders the conversation with the model's chat template and generates.</summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServerState state)
    {
        var served = state.RequireModel();
        var body = await RequestBody.ReadAsync<ChatCompletionRequest>(context, state.Options.MaxBodyBytes);
        if (body.Messages is not { Count: > 0 }) throw ApiError.BadRequest("messages must hold at least one message", "messages");
        var messages = new List<ChatMessage>();
        for (int i = 0; i < body.Messages.Count; i++)
        {
            // [null] deserializes to a null element: refuse it here rather than fail on it below.
            var m = body.Messages[i] ?? throw ApiError.BadRequest($"messages[{i}] must be a message object, got null", "messages");
            if (m.Role is not ("system" or "user" or "assistant" or "developer" or "tool"))
                throw ApiError.BadRequest($"message role must be system, developer, user, assistant or tool, got '{m.Role}'", "messages");
            messages.Add(new ChatMessage(m.Role == "developer" ? "system" : m.Role, m.Content ?? ""));
        }
        int[] prompt;
        try
        {
            prompt = served.ChatPrompt(messages);
        }
        catch (ChatTemplateException e)
        {
            throw ApiError.BadRequest($"the model's chat template rejected the conversation: {e.Message}", "messages");
        }
        catch (ArgumentException e)
        {
            throw ApiError.BadRequest(e.Message, "messages");
        }
        bool logprobs = body.Logprobs ?? false;
        int top = logprobs ? body.TopLogprobs ?? 0 : 0;
        var vote = AnswerVoting.From(body, prompts: 1);
        // A vote scores choices by their tokens' log-probabilities (ties, best_logprob) even when the client asks none.
        var requests = RequestMapping.ToEngineRequests(body, prompt, body.MaxCompletionTokens ?? body.MaxTokens, logprobs || vote is not null, top, state.Options.MaxChoices, served.Engine);
        var streams = CompletionRunner.Submit(served.Engine, requests, "messages", context.RequestAborted);
        string id = CompletionRunner.NewId("chatcmpl");
        long created = CompletionRunner.Now;

        if (body.Stream != true)
        {
            var results = await CompletionRunner.CollectAsync(streams, context.RequestAborted);
            var choices = results.Select((r, i) => new ChatChoice(i, new AssistantMessage(r.Text),
                logprobs ? new ChatLogprobs(r.Tokens.Select(t => Logprob(t, served.Tokenizer)).ToList()) : null, RequestMapping.FinishReason(r.Finished.Reason))).ToList();
            await Results.Json(new ChatCompletion(id, created, served.Id, choices, RequestMapping.Usage(context, prompt.Length, results.Select(r => r.Finished)),
                vote?.Summarize(results)),
                ServerJson.Options).ExecuteAsync(context);
            return;
        }

        CompletionRunner.StartEventStream(context);
        for (int i = 0; i < streams.Count; i++)
            await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id, [new ChatChunkChoice(i, new ChatDelta("assistant", ""), null, null)]));
        var finished = new List<EngineFinished>();
        await foreach (var (index, e) in CompletionRunner.MergeAsync(streams, context.RequestAborted))
        {
            switch (e)
            {
                case EngineToken t when t.Text.Length > 0 || logprobs:
                    await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id,
                        [new ChatChunkChoice(index, new ChatDelta(null, t.Text), logprobs ? new ChatLogprobs([Logprob(t, served.Tokenizer)]) : null, null)]));
                    break;
                case EngineFinished f:
                    finished.Add(f);
                    if (f.Text.Length > 0)
                        await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id,
                            [new ChatChunkChoice(index, new ChatDelta(null, f.Text), null, null)]));
                    await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id,
                        [new ChatChunkChoice(index, new ChatDelta(null, null), null, RequestMapping.FinishReason(f.Reason))]));
                    break;
            }
        }
        var usage = RequestMapping.Usage(context, prompt.Length, finished);
        if (body.StreamOptions?.IncludeUsage == true)
            await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id, [], usage));
        await CompletionRunner.WriteDoneAsync(context);
    }

    // "bytes" is the token's own bytes, not the UTF-8 of its text: a token holding part of a multi-byte character
    // (a byte-fallback token, a byte-level BPE piece) has no text of its own (it decodes to U+FFFD), and its bytes are
    // what lets a client join it with its neighbours into the character (OpenAI's reason for the field).
    private static ChatTokenLogprob Logprob(EngineToken t, Tokenizer tokenizer) => new(
        t.Logprob!.Value.Text, t.Logprob.Value.Logprob, Bytes(tokenizer, t.Logprob.Value.TokenId),
        (t.TopLogprobs ?? []).Select(a => new ChatTopLogprob(a.Text, a.Logprob, Bytes(tokenizer, a.TokenId))).ToList());

    private static List<int> Bytes(Tokenizer tokenizer, int token) => tokenizer.TokenBytes(token).Select(b => (int)b).ToList();
}
