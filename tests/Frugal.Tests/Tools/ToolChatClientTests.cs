using System.Text.Json;
using Frugal.Inference.ChatClient;
using Frugal.Inference.Engine;
using Frugal.Inference.Tools;
using Json.Schema;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Frugal.Tests.Tools;

/// <summary>
/// Tool calls through the in-process IChatClient on random-weight models that carry real templates: a required call
/// is always a valid call of a declared function in the family's own syntax, with arguments that the function's
/// schema accepts (checked by JsonSchema.Net), and FunctionInvokingChatClient runs a whole round trip.
/// </summary>
public class ToolChatClientTests
{
    private static readonly JsonElement Weather = JsonDocument.Parse(ToolTemplates.WeatherSchema).RootElement.Clone();

    private static readonly JsonElement Alarm = JsonDocument.Parse("""
        {"type":"object","properties":{"hour":{"type":"integer"},"loud":{"type":"boolean"},"tags":{"type":"array","items":{"enum":["work","home"]},"maxItems":3}},"required":["hour","loud"]}
        """).RootElement.Clone();

    private static AIFunctionDeclaration Declare(string name, JsonElement schema) => AIFunctionFactory.CreateDeclaration(name, $"the {name} function", schema);

    private static FrugalChatClient Client(string template) =>
        FrugalChatClient.Load(ToolTemplates.ModelWith(template), new EngineOptions { ContextLength = 8192, MaxRunningSequences = 2 });

    private static void AssertValid(JsonElement schema, FunctionCallContent call)
    {
        Assert.Null(call.Exception);
        string json = JsonSerializer.Serialize(call.Arguments);
        var result = JsonSchema.FromText(schema.GetRawText()).Evaluate(JsonDocument.Parse(json).RootElement);
        Assert.True(result.IsValid, $"{call.Name}({json}) does not match its schema");
    }

    [Theory]
    [InlineData(ToolTemplates.Qwen3)]
    [InlineData(ToolTemplates.Qwen25)]
    [InlineData(ToolTemplates.Llama32)]
    [InlineData(ToolTemplates.MistralNemo)]
    public async Task Required_gives_a_valid_call_from_a_random_weight_model(string template)
    {
        using var client = Client(template);
        var schemas = new Dictionary<string, JsonElement> { ["get_weather"] = Weather, ["set_alarm"] = Alarm };
        var seen = new HashSet<string>();
        for (int seed = 1; seed <= 4; seed++)
        {
            var options = new ChatOptions
            {
                Tools = [Declare("get_weather", Weather), Declare("set_alarm", Alarm)],
                ToolMode = ChatToolMode.RequireAny,
                Temperature = 1f,
                Seed = seed,
                MaxOutputTokens = 400,
            };
            var response = await client.GetResponseAsync([new AiChatMessage(ChatRole.User, "Wake me at 7 if it rains in Oslo.")], options);
            Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            Assert.NotEmpty(calls);
            foreach (var call in calls)
            {
                AssertValid(schemas[call.Name], call);
                seen.Add(call.Name);
            }
        }
        Assert.NotEmpty(seen);
    }

    [Fact]
    public async Task A_named_function_is_the_one_called_streaming_or_not()
    {
        using var client = Client(ToolTemplates.Qwen3);
        var options = new ChatOptions
        {
            Tools = [Declare("get_weather", Weather), Declare("set_alarm", Alarm)],
            ToolMode = ChatToolMode.RequireSpecific("set_alarm"),
            Temperature = 1f,
            Seed = 3,
            MaxOutputTokens = 400,
        };
        AiChatMessage[] chat = [new(ChatRole.User, "Alarm please.")];
        var whole = await client.GetResponseAsync(chat, options);
        var call = Assert.Single(whole.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("set_alarm", call.Name);
        AssertValid(Alarm, call);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync(chat, options)) updates.Add(u);
        var streamed = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("set_alarm", streamed.Name);
        // Same seed, same request: the same call, whichever way it is read.
        Assert.Equal(JsonSerializer.Serialize(call.Arguments), JsonSerializer.Serialize(streamed.Arguments));
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        Assert.DoesNotContain(updates, u => u.Text.Contains("<tool_call>"));
    }

    [Fact]
    public async Task Function_invoking_chat_client_runs_a_tool_round_trip_in_process()
    {
        using var inner = Client(ToolTemplates.Qwen3);
        var invocations = new List<(long Hour, bool Loud)>();
        var setAlarm = AIFunctionFactory.Create((long hour, bool loud) =>
        {
            invocations.Add((hour, loud));
            return $"alarm set for {hour}";
        }, "set_alarm", "Sets an alarm");
        using var client = new ChatClientBuilder(inner).UseFunctionInvocation().Build();
        var response = await client.GetResponseAsync([new AiChatMessage(ChatRole.User, "Set an alarm.")],
            new ChatOptions { Tools = [setAlarm], ToolMode = ChatToolMode.RequireAny, Temperature = 1f, Seed = 5, MaxOutputTokens = 200, AllowMultipleToolCalls = false });

        var (hour, loud) = Assert.Single(invocations);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("set_alarm", call.Name);
        Assert.Equal(hour, ((JsonElement)call.Arguments!["hour"]!).GetInt64());
        Assert.Equal(loud, ((JsonElement)call.Arguments["loud"]!).GetBoolean());
        var result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal(call.CallId, result.CallId);
        Assert.Equal($"alarm set for {hour}", result.Result?.ToString());
        // The second round (tool mode back to auto) answered after reading the result: a final assistant message.
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
        Assert.DoesNotContain(response.Messages[^1].Contents, c => c is FunctionCallContent);
        Assert.NotEqual(ChatFinishReason.ToolCalls, response.FinishReason);
    }
}
