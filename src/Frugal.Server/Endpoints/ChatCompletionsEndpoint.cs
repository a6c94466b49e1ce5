using Frugal.Inference.Engine;
using Frugal.Inference.Tools;
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
            messages.Add(ChatTools.Message(m, i));
        }
        var tools = served.Template is null ? null : ChatTools.From(body, served.Template);
        int[] prompt;
        try
        {
            prompt = served.ChatPrompt(messages, tools?.TemplateVariables);
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
        var requests = RequestMapping.ToEngineRequests(body, prompt, body.MaxCompletionTokens ?? body.MaxTokens, logprobs || vote is not null, top, state.Options.MaxChoices, served.Engine, tools?.Grammar);
        var events = await state.Backend.StartAsync(requests, "messages", context.RequestAborted);
        string id = CompletionRunner.NewId("chatcmpl");
        long created = CompletionRunner.Now;

        if (body.Stream != true)
        {
            var results = await CompletionRunner.CollectAsync(events, requests.Count, context.RequestAborted);
            var choices = results.Select((r, i) =>
            {
                var logs = logprobs ? new ChatLogprobs(r.Tokens.Select(t => Logprob(t, served.Tokenizer)).ToList()) : null;
                var parsed = tools?.Parse(r.Text);
                if (parsed is not { Calls.Count: > 0 })
                    return new ChatChoice(i, new AssistantMessage(r.Text), logs, RequestMapping.FinishReason(r.Finished.Reason));
                var calls = parsed.Calls.Select(c => new ToolCallOut(c.Id, new FunctionCallOut(c.Name, c.Arguments))).ToList();
                return new ChatChoice(i, new AssistantMessage(parsed.Content.Length > 0 ? parsed.Content : null, calls), logs, ToolCallsFinish);
            }).ToList();
            await Results.Json(new ChatCompletion(id, created, served.Id, choices, RequestMapping.Usage(context, prompt.Length, results.Select(r => r.Finished)),
                vote?.Summarize(results)),
                ServerJson.Options).ExecuteAsync(context);
            return;
        }

        CompletionRunner.StartEventStream(context);
        var filters = requests.Select(_ => tools?.Stream()).ToArray();
        var callDeltas = filters.Select(f => f is null ? null : new ToolCallDeltas(f, tools!.Format)).ToArray();
        for (int i = 0; i < requests.Count; i++)
            await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id, [new ChatChunkChoice(i, new ChatDelta("assistant", ""), null, null)]));
        var finished = new List<EngineFinished>();
        await foreach (var (index, e) in events.WithCancellation(context.RequestAborted))
        {
            switch (e)
            {
                case EngineToken t when t.Text.Length > 0 || logprobs:
                    string text = filters[index]?.Push(t.Text) ?? t.Text;
                    if (text.Length > 0 || logprobs)
                        await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id,
                            [new ChatChunkChoice(index, new ChatDelta(null, text), logprobs ? new ChatLogprobs([Logprob(t, served.Tokenizer)]) : null, null)]));
                    if (callDeltas[index]?.Next() is { Count: > 0 } pieces)
                        await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id,
                            [new ChatChunkChoice(index, new ChatDelta(null, null, pieces), null, null)]));
                    break;
                case EngineFinished f:
                    finished.Add(f);
                    string tail = filters[index]?.Push(f.Text) ?? f.Text;
                    IReadOnlyList<ToolCall> calls = [];
                    List<ToolCallDelta> rest = [];
                    if (filters[index] is { } filter)
                    {
                        var deltas = callDeltas[index]!;
                        (string held, calls) = filter.Finish();
                        // Held text that announced calls is not content too, even when the output broke off mid-call.
                        if (!deltas.Started) tail += held;
                        rest = deltas.Finish(calls);
                    }
                    if (tail.Length > 0)
                        await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id,
                            [new ChatChunkChoice(index, new ChatDelta(null, tail), null, null)]));
                    // What the pieces did not show yet: the rest of each call's arguments, and calls not announced.
                    foreach (var d in rest)
                        await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id,
                            [new ChatChunkChoice(index, new ChatDelta(null, null, [d]), null, null)]));
                    await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id,
                        [new ChatChunkChoice(index, new ChatDelta(null, null), null, calls.Count > 0 ? ToolCallsFinish : RequestMapping.FinishReason(f.Reason))]));
                    break;
            }
        }
        var usage = RequestMapping.Usage(context, prompt.Length, finished);
        if (body.StreamOptions?.IncludeUsage == true)
            await CompletionRunner.WriteEventAsync(context, new ChatCompletionChunk(id, created, served.Id, [], usage));
        await CompletionRunner.WriteDoneAsync(context);
    }

    private const string ToolCallsFinish = "tool_calls";

    // "bytes" is the token's own bytes, not the UTF-8 of its text: a token holding part of a multi-byte character
    // (a byte-fallback token, a byte-level BPE piece) has no text of its own (it decodes to U+FFFD), and its bytes are
    // what lets a client join it with its neighbours into the character (OpenAI's reason for the field).
    private static ChatTokenLogprob Logprob(EngineToken t, Tokenizer tokenizer) => new(
        t.Logprob!.Value.Text, t.Logprob.Value.Logprob, Bytes(tokenizer, t.Logprob.Value.TokenId),
        (t.TopLogprobs ?? []).Select(a => new ChatTopLogprob(a.Text, a.Logprob, Bytes(tokenizer, a.TokenId))).ToList());

    private static List<int> Bytes(Tokenizer tokenizer, int token) => tokenizer.TokenBytes(token).Select(b => (int)b).ToList();
}
