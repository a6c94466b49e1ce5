#pragma warning disable OPENAI001 // Seed and the legacy completions client are marked experimental in the SDK
using System.ClientModel;
using System.Text.Json;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Tests.Engine;
using ChatTemplate = Frugal.Tokenization.ChatTemplates.ChatTemplate;
using ChatMessage = OpenAI.Chat.ChatMessage;
using OpenAI.Chat;

namespace Frugal.Tests.Server;

public sealed class SharedServer : IAsyncLifetime
{
    public ServerHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() => Harness = await ServerHarness.StartAsync();

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>The server driven by the OpenAI .NET SDK, checked against the engine run in-process on the same prompt.</summary>
public class OpenAiSdkTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly ServerHarness _h = shared.Harness;
    private static readonly ChatMessage[] Conversation = [new SystemChatMessage("You are terse."), new UserChatMessage("Say something.")];

    private ChatClient Chat => _h.OpenAI.GetChatClient(ServerHarness.ModelId);

    /// <summary>The prompt tokens the server must build: the ChatML template rendered, then tokenized.</summary>
    private int[] ExpectedPrompt()
    {
        var tokenizer = _h.Server.State.Model!.Tokenizer;
        string text = new ChatTemplate(ServingModels.ChatMl).Render([Frugal.Tokenization.ChatTemplates.ChatMessage.System("You are terse."), Frugal.Tokenization.ChatTemplates.ChatMessage.User("Say something.")]);
        return tokenizer.Encode(text);
    }

    private async Task<EngineCompletion> InProcessGreedy(int[] prompt, int maxTokens) =>
        await _h.Server.State.Model!.Engine.Submit(new EngineRequest { PromptTokens = prompt, MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy }).CompleteAsync();

    [Fact]
    public async Task Chat_completion_matches_the_engine_and_reports_usage_from_the_tokenizer()
    {
        var reply = (await Chat.CompleteChatAsync(Conversation, new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 10 })).Value;
        var prompt = ExpectedPrompt();
        var expected = await InProcessGreedy(prompt, 10);
        Assert.Equal(expected.Text, reply.Content[0].Text);
        Assert.Equal(prompt.Length, reply.Usage.InputTokenCount);
        Assert.Equal(expected.Finished.CompletionTokens, reply.Usage.OutputTokenCount);
        Assert.Equal(prompt.Length + expected.Finished.CompletionTokens, reply.Usage.TotalTokenCount);
        Assert.Equal(expected.Finished.Reason == EngineFinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, reply.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, reply.Role);
    }

    [Fact]
    public async Task Streaming_chat_gives_the_same_text_and_usage_in_the_last_chunk()
    {
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 10 };
        var whole = (await Chat.CompleteChatAsync(Conversation, options)).Value;
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        int updates = 0;
        await foreach (var u in Chat.CompleteChatStreamingAsync(Conversation, options))
        {
            updates++;
            foreach (var part in u.ContentUpdate) text.Append(part.Text);
            finish ??= u.FinishReason;
            usage ??= u.Usage;
        }
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage); // the SDK asks for stream_options.include_usage
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.True(updates > 2);
    }

    [Fact]
    public async Task Stop_strings_cut_the_text_before_them_with_finish_reason_stop()
    {
        var full = (await Chat.CompleteChatAsync(Conversation, new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 16 })).Value.Content[0].Text;
        string stop = full.Substring(full.Length / 2, 2);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 16 };
        options.StopSequences.Add(stop);
        var reply = (await Chat.CompleteChatAsync(Conversation, options)).Value;
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], reply.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, reply.FinishReason);
    }

    [Fact]
    public async Task The_same_seed_repeats_and_another_seed_differs()
    {
        async Task<string> Sample(long seed) => (await Chat.CompleteChatAsync(Conversation,
            new ChatCompletionOptions { Temperature = 1.5f, MaxOutputTokenCount = 16, Seed = seed })).Value.Content[0].Text;
        string a = await Sample(42), b = await Sample(42), c = await Sample(43);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public async Task N_three_gives_three_choices_through_the_sdk_protocol_method()
    {
        string json = """{"model":"model","messages":[{"role":"user","content":"Say something."}],"n":3,"seed":7,"temperature":1.5,"max_tokens":8}""";
        var result = await Chat.CompleteChatAsync(BinaryContent.Create(BinaryData.FromString(json)));
        using var doc = JsonDocument.Parse(result.GetRawResponse().Content.ToString());
        var choices = doc.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], choices.Select(c => c.GetProperty("index").GetInt32()));
        var texts = choices.Select(c => c.GetProperty("message").GetProperty("content").GetString()).ToList();
        Assert.Equal(3, texts.Distinct().Count()); // seeds 7, 8, 9
        int completion = doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completion, 3, 24);
    }

    [Fact]
    public async Task Completion_through_the_sdk_pipeline_matches_the_engine()
    {
        // SDK 2.15 keeps its completions client internal, so the request goes through the SDK's own pipeline.
        var pipeline = _h.OpenAI.Pipeline;
        using var message = pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(_h.Server.BaseAddress, "v1/completions");
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = BinaryContent.Create(BinaryData.FromString(
            """{"model":"model","prompt":"the quick brown fox","temperature":0,"max_tokens":6,"logprobs":2}"""));
        await pipeline.SendAsync(message);
        Assert.Equal(200, message.Response!.Status);
        using var doc = JsonDocument.Parse(message.Response.Content.ToString());
        var choice = doc.RootElement.GetProperty("choices")[0];
        var prompt = _h.Server.State.Model!.Tokenizer.Encode("the quick brown fox");
        var expected = await InProcessGreedy(prompt, 6);
        Assert.Equal(expected.Text, choice.GetProperty("text").GetString());
        Assert.Equal("text_completion", doc.RootElement.GetProperty("object").GetString());
        Assert.Equal(prompt.Length, doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var logprobs = choice.GetProperty("logprobs");
        Assert.Equal(expected.Tokens.Count, logprobs.GetProperty("token_logprobs").GetArrayLength());
        Assert.All(logprobs.GetProperty("token_logprobs").EnumerateArray(), l => Assert.True(l.GetSingle() <= 0));
    }

    [Fact]
    public async Task Streaming_completion_is_server_sent_events_ending_with_done()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions")
        {
            Content = ServerHarness.Json("""{"prompt":"once upon","temperature":0,"max_tokens":5,"stream":true,"stream_options":{"include_usage":true}}"""),
        };
        using var response = await _h.Http.SendAsync(request);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", lines[^1]);
        var events = lines[..^1].Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement).ToList();
        string text = string.Concat(events.SelectMany(e => e.GetProperty("choices").EnumerateArray()).Select(c => c.GetProperty("text").GetString()));
        var expected = await InProcessGreedy(_h.Server.State.Model!.Tokenizer.Encode("once upon"), 5);
        Assert.Equal(expected.Text, text);
        Assert.Equal(expected.Finished.CompletionTokens, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", events[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Models_lists_the_served_model_and_health_and_metrics_answer()
    {
        var models = (await _h.OpenAI.GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Equal(Path.GetFileNameWithoutExtension(ServingModels.Tiny), Assert.Single(models).Id);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await _h.Http.GetAsync("health")).StatusCode);
        await Chat.CompleteChatAsync(Conversation, new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 2 });
        Assert.True(await _h.MetricAsync("frugal_requests_total") >= 1);
        Assert.True(await _h.MetricAsync("frugal_completion_tokens_total") >= 1);
        Assert.True(await _h.MetricAsync("frugal_time_to_first_token_seconds_count") >= 1);
        Assert.True(await _h.MetricAsync("frugal_kv_blocks_free") > 0);
    }
}
