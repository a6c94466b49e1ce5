using Frugal.Tests.Engine;
using Frugal.Tests.Oracle;
using Frugal.Tokenization;
using LLama.Native;
using OpenAI.Chat;
using Xunit.Abstractions;
using ChatTemplate = Frugal.Tokenization.ChatTemplates.ChatTemplate;
using TemplateMessage = Frugal.Tokenization.ChatTemplates.ChatMessage;

namespace Frugal.Tests.Server;

/// <summary>
/// Eight concurrent greedy chat requests to the real server (continuous batching, chunked prefill, paged K/V), each
/// checked token for token against llama.cpp's greedy continuation of the same prompt run alone (llama.cpp's default
/// F16 K/V cache); then the same eight again, whose prompts now come from the prefix cache. Tokens are read from the
/// logprobs' per-token bytes, which name a token of the tiny vocabulary uniquely: byte tokens are one byte, word
/// pieces are a space and letters.
/// </summary>
public class ServerGreedyParityTests(ITestOutputHelper output)
{
    private const int Requests = 8, MaxTokens = 24;

    /// <summary>
    /// Below this top-2 margin of llama.cpp's logits, the two engines' rounding (F16 K/V and F16 attention products in
    /// llama.cpp) may pick different tokens; the comparison of that request stops there.
    /// </summary>
    private const float TieMargin = 1e-3f;

    [Fact]
    public async Task Eight_concurrent_greedy_requests_give_llama_cpps_greedy_tokens()
    {
        await using var h = await ServerHarness.StartAsync(o => o with { Parallel = Requests });
        var tokenizer = h.Server.State.Model!.Tokenizer;
        var template = new ChatTemplate(ServingModels.ChatMl);
        var questions = Enumerable.Range(0, Requests).Select(Question).ToArray();
        // The prompt tokens the server must build (the ChatML template rendered, then tokenized), given to llama.cpp as ids.
        var prompts = questions.Select(q => tokenizer.Encode(template.Render([TemplateMessage.User(q)]))).ToArray();

        var expected = new (int[] Tokens, float[] Margins)[Requests];
        using (var oracle = LlamaCppModel.Load(ServingModels.Tiny, contextSize: 256, kvType: GGMLType.GGML_TYPE_F16))
            for (int i = 0; i < Requests; i++)
                expected[i] = oracle.GreedyWithMargins(prompts[i], MaxTokens);

        long stepsBefore = h.Server.State.Model!.Engine.Metrics.Steps;
        var chat = h.OpenAI.GetChatClient(ServerHarness.ModelId);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = MaxTokens, IncludeLogProbabilities = true };
        async Task<ChatCompletion[]> SendAll() =>
            await Task.WhenAll(questions.Select(async q => (await chat.CompleteChatAsync([new UserChatMessage(q)], options)).Value));
        var replies = await SendAll();
        long steps = h.Server.State.Model!.Engine.Metrics.Steps - stepsBefore;
        var (compared, loneHighBytes) = Compare(replies, prompts, expected, tokenizer, "first round");
        output.WriteLine($"{compared} of {expected.Sum(e => e.Tokens.Length)} tokens compared, {steps} engine steps, {loneHighBytes} lone bytes >= 0x80, " +
                         $"smallest llama.cpp top-2 margin {expected.Min(e => e.Margins.Min()):G3}");
        Assert.True(compared >= Requests * MaxTokens * 3 / 4, $"only {compared} tokens compared");
        // The requests really ran together: far fewer steps than one per generated token per request.
        Assert.True(steps < compared / 2, $"{steps} engine steps for {compared} tokens");
        // Tokens that are part of a UTF-8 character were compared by their own bytes, not by a replacement character.
        Assert.True(loneHighBytes > 0);

        // Again: now each prompt's whole blocks come from the prefix cache, and the continuations must not change.
        var again = await SendAll();
        Assert.All(again, r => Assert.True(r.Usage.InputTokenDetails.CachedTokenCount > 0, "no prompt tokens came from the prefix cache"));
        var (comparedAgain, _) = Compare(again, prompts, expected, tokenizer, "second round (cached prefixes)");
        Assert.Equal(compared, comparedAgain);
    }

    /// <summary>
    /// Each reply's tokens (by their bytes) against llama.cpp's up to its first end-of-generation token, or up to a
    /// near-tie where they differ; returns the tokens compared and how many of them were lone bytes >= 0x80.
    /// </summary>
    private (int Compared, int LoneHighBytes) Compare(ChatCompletion[] replies, int[][] prompts, (int[] Tokens, float[] Margins)[] expected,
        Tokenizer tokenizer, string round)
    {
        int compared = 0, loneHighBytes = 0;
        for (int i = 0; i < Requests; i++)
        {
            Assert.Equal(prompts[i].Length, replies[i].Usage.InputTokenCount);
            var (tokens, margins) = expected[i];
            int end = Array.FindIndex(tokens, tokenizer.IsEndOfGeneration); // the server stops there, llama.cpp's loop does not
            if (end < 0) end = tokens.Length;
            var got = replies[i].ContentTokenLogProbabilities.Select(t => t.Utf8Bytes?.ToArray() ?? []).ToArray();
            int t = 0;
            for (; t < end; t++)
            {
                Assert.True(t < got.Length, $"{round}, request {i}: the server stopped after {got.Length} tokens, llama.cpp gave {end}");
                var want = tokenizer.TokenBytes(tokens[t]);
                if (want.AsSpan().SequenceEqual(got[t])) continue;
                Assert.True(margins[t] < TieMargin, $"{round}, request {i}, token {t}: the server gave [{string.Join(',', got[t])}], " +
                    $"llama.cpp token {tokens[t]} [{string.Join(',', want)}] (top-2 margin {margins[t]:G3})");
                output.WriteLine($"{round}, request {i}: near-tie at token {t} (margin {margins[t]:G3}); compared up to it");
                break;
            }
            if (t == end) Assert.Equal(end, got.Length);
            compared += t;
            loneHighBytes += got.Take(t).Count(b => b is [>= 0x80]);
        }
        return (compared, loneHighBytes);
    }

    /// <summary>Questions of different lengths, so prefill chunks and decodes share steps.</summary>
    private static string Question(int i) =>
        $"Question {i}: " + string.Join(' ', Enumerable.Range(0, 1 + 3 * i).Select(k => Words[(k * 7 + i) % Words.Length]));

    private static readonly string[] Words =
        ["harbour", "lantern", "meadow", "quarry", "ribbon", "saddle", "thistle", "walnut", "yarrow", "zephyr", "café", "naïve"];
}
