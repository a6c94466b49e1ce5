using Frugal.Inference.ChatClient;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Microsoft.Extensions.AI;
using TemplateMessage = Frugal.Tokenization.ChatTemplates.ChatMessage;

namespace Frugal.Tests.Engine;

public class ChatClientTests
{
    private static readonly ChatMessage[] Conversation = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hello there.")];

    [Fact]
    public async Task Chat_client_answers_like_the_engine_streaming_and_not()
    {
        using IChatClient client = FrugalChatClient.Load(ServingModels.Tiny, new EngineOptions { MaxRunningSequences = 2 });
        var engine = client.GetService<InferenceEngine>()!;
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 8 };

        var response = await client.GetResponseAsync(Conversation, options);
        var prompt = ChatPrompt.Tokens(engine.Tokenizer, new Frugal.Tokenization.ChatTemplates.ChatTemplate(ServingModels.ChatMl),
            [TemplateMessage.System("Be brief."), TemplateMessage.User("Hello there.")]);
        var expected = await engine.Submit(new EngineRequest { PromptTokens = prompt, MaxTokens = 8, Sampling = SamplingOptions.Greedy }).CompleteAsync();
        Assert.Equal(expected.Text, response.Text);
        Assert.Equal(ChatRole.Assistant, response.Messages[0].Role);
        Assert.Equal(prompt.Length, response.Usage!.InputTokenCount);
        Assert.Equal(expected.Finished.CompletionTokens, response.Usage.OutputTokenCount);
        Assert.Equal(expected.Finished.Reason == EngineFinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync(Conversation, options))
            updates.Add(u);
        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(response.FinishReason, updates[^1].FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
        Assert.Equal(response.Usage.OutputTokenCount, usage.Details.OutputTokenCount);
        Assert.Equal("frugal", client.GetService<ChatClientMetadata>()!.ProviderName);
    }

    [Fact]
    public async Task Chat_client_seeds_repeat_and_breaking_off_a_stream_frees_its_blocks()
    {
        using IChatClient client = FrugalChatClient.Load(ServingModels.Tiny);
        var engine = client.GetService<InferenceEngine>()!;
        var sampled = new ChatOptions { Temperature = 1.5f, MaxOutputTokens = 12, Seed = 9 };
        Assert.Equal((await client.GetResponseAsync(Conversation, sampled)).Text, (await client.GetResponseAsync(Conversation, sampled)).Text);

        await foreach (var _ in client.GetStreamingResponseAsync(Conversation, new ChatOptions { Temperature = 1, Seed = 1, MaxOutputTokens = 150 }))
            break;
        Assert.True(await ServingModels.EventuallyAsync(() => engine.Metrics.KvBlocksUsed == 0));
    }
}
