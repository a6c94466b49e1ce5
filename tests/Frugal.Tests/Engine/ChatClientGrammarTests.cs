using System.Text.Json;
using Frugal.Inference.ChatClient;
using Microsoft.Extensions.AI;

namespace Frugal.Tests.Engine;

public class ChatClientGrammarTests
{
    [Fact]
    public async Task Chat_client_response_format_json_schema_constrains_the_reply()
    {
        using IChatClient client = FrugalChatClient.Load(ServingModels.Tiny);
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"answer":{"enum":["yes","no"]},"n":{"type":"integer"}},"required":["answer","n"],"additionalProperties":false}""").RootElement;
        var options = new ChatOptions { Temperature = 1, Seed = 3, MaxOutputTokens = 150, ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "reply") };
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "yes or no?")], options);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        var reply = JsonDocument.Parse(response.Text).RootElement;
        Assert.Contains(reply.GetProperty("answer").GetString(), new[] { "yes", "no" });
        Assert.Equal(JsonValueKind.Number, reply.GetProperty("n").ValueKind);
        Assert.Equal(2, reply.EnumerateObject().Count());
    }

    [Fact]
    public async Task Chat_client_refuses_an_unsupported_schema_keyword_by_name()
    {
        using IChatClient client = FrugalChatClient.Load(ServingModels.Tiny);
        var schema = JsonDocument.Parse("""{"type":"string","pattern":"^(a)\\1$"}""").RootElement;
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema) };
        var e = await Assert.ThrowsAsync<Frugal.Inference.Constraints.JsonSchemaException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], options));
        Assert.Equal("pattern", e.Keyword);
    }
}
