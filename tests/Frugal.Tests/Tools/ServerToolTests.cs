using System.Diagnostics;
using System.Text.Json;
using Frugal.Inference.ChatClient;
using Frugal.Inference.Tools;
using Frugal.Tests.Architecture;
using Frugal.Tests.Server;
using Json.Schema;
using OpenAI.Chat;
using TemplateMessage = Frugal.Tokenization.ChatTemplates.ChatMessage;

namespace Frugal.Tests.Tools;

public sealed class ToolServer : IAsyncLifetime
{
    public ServerHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Harness = await ServerHarness.StartAsync(o => o with { ModelPath = ToolTemplates.ModelWith(ToolTemplates.Qwen3), ContextLength = 2048 });

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>
/// Tool round trips against a real server on 127.0.0.1 (a random-weight model with Qwen3's template): the OpenAI .NET
/// SDK and the npm openai client each get a required call, streamed and not, then send the tool's result back; the
/// follow-up's prompt is checked token for token against the template rendering the call and its result.
/// </summary>
public class ServerToolTests(ToolServer shared) : IClassFixture<ToolServer>
{
    private readonly ServerHarness _h = shared.Harness;
    private static readonly JsonElement Schema = JsonDocument.Parse(ToolTemplates.WeatherSchema).RootElement.Clone();
    private const string Question = "Weather in Oslo?";

    private ChatClient Chat => _h.OpenAI.GetChatClient(ServerHarness.ModelId);

    private static ChatTool Weather => ChatTool.CreateFunctionTool("get_weather", "Weather in a city", BinaryData.FromString(ToolTemplates.WeatherSchema));

    private static void AssertValidArguments(string arguments)
    {
        var result = JsonSchema.FromText(ToolTemplates.WeatherSchema).Evaluate(JsonDocument.Parse(arguments).RootElement);
        Assert.True(result.IsValid, $"get_weather({arguments}) does not match its schema");
    }

    /// <summary>The prompt the server must build for the follow-up: the call and its result rendered by the template, tools omitted (tool_choice none).</summary>
    private int ExpectedFollowUpPromptTokens(string id, string arguments) => ExpectedFollowUpPromptTokens([new ToolCall(id, "get_weather", arguments)]);

    private int ExpectedFollowUpPromptTokens(IReadOnlyList<ToolCall> calls)
    {
        var served = _h.Server.State.Model!;
        TemplateMessage[] turns =
        [
            TemplateMessage.User(Question),
            ToolMessages.Assistant(null, calls),
            .. calls.Select(c => ToolMessages.Result(c.Id, null, "{\"temp\": 21}")),
        ];
        string rendered = served.Template!.Render(turns);
        Assert.Contains("<tool_response>\n{\"temp\": 21}\n</tool_response>", rendered);
        Assert.Contains("<tool_call>\n{\"name\": \"get_weather\"", rendered);
        return ChatPrompt.Tokens(served.Tokenizer, served.Template, turns).Length;
    }

    private async Task<ChatCompletion> FollowUp(ChatToolCall call)
    {
        var answer = (await Chat.CompleteChatAsync(
            [new UserChatMessage(Question), new AssistantChatMessage([call]), new ToolChatMessage(call.Id, "{\"temp\": 21}")],
            new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateNoneChoice(), MaxOutputTokenCount = 4, Temperature = 0 })).Value;
        Assert.Equal(ExpectedFollowUpPromptTokens(call.Id, call.FunctionArguments.ToString()), answer.Usage.InputTokenCount);
        Assert.NotEqual(ChatFinishReason.ToolCalls, answer.FinishReason);
        Assert.Empty(answer.ToolCalls);
        return answer;
    }

    [Fact]
    public async Task Dotnet_sdk_round_trip_without_streaming()
    {
        var options = new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), MaxOutputTokenCount = 300, AllowParallelToolCalls = false };
        var reply = (await Chat.CompleteChatAsync([new UserChatMessage(Question)], options)).Value;
        Assert.Equal(ChatFinishReason.ToolCalls, reply.FinishReason);
        var call = Assert.Single(reply.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("call_", call.Id);
        AssertValidArguments(call.FunctionArguments.ToString());
        Assert.Empty(reply.Content);
        await FollowUp(call);
    }

    [Fact]
    public async Task Dotnet_sdk_round_trip_streaming_gives_the_same_call_as_tool_call_deltas()
    {
        var options = new ChatCompletionOptions
        {
            Tools = { Weather }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather"), MaxOutputTokenCount = 300,
#pragma warning disable OPENAI001
            Seed = 21,
#pragma warning restore OPENAI001
        };
        var whole = Assert.Single((await Chat.CompleteChatAsync([new UserChatMessage(Question)], options)).Value.ToolCalls);
        string? id = null, name = null;
        var arguments = new System.Text.StringBuilder();
        var text = new System.Text.StringBuilder();
        int pieces = 0;
        ChatFinishReason? finish = null;
        await foreach (var u in Chat.CompleteChatStreamingAsync([new UserChatMessage(Question)], options))
        {
            foreach (var part in u.ContentUpdate) text.Append(part.Text);
            foreach (var t in u.ToolCallUpdates)
            {
                Assert.Equal(0, t.Index);
                id ??= t.ToolCallId;
                name ??= t.FunctionName;
                if (t.FunctionArgumentsUpdate is { } a && !a.ToMemory().IsEmpty) { arguments.Append(a.ToString()); pieces++; }
            }
            finish ??= u.FinishReason;
        }
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("", text.ToString());
        Assert.Equal("get_weather", name);
        Assert.Equal(whole.FunctionArguments.ToString(), arguments.ToString()); // same seed: the same call
        Assert.True(pieces > 3, $"the arguments came in {pieces} pieces, not as the model wrote them");
        AssertValidArguments(arguments.ToString());
        await FollowUp(ChatToolCall.CreateFunctionToolCall(id!, name, BinaryData.FromString(arguments.ToString())));
    }

    [Fact]
    public async Task Npm_openai_client_round_trip_streamed_and_not()
    {
        string dir = Path.Combine(LayerDirectionTests.RepoRoot(), "tests", "Frugal.Tests", "Fixtures", "openai-client");
        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("tool-round-trip.mjs");
        start.ArgumentList.Add(new Uri(_h.Server.BaseAddress, "v1").ToString());
        start.ArgumentList.Add(ToolTemplates.WeatherSchema.Trim());
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await node.WaitForExitAsync(timeout.Token);
        Assert.True(node.ExitCode == 0, await stderr);
        var result = JsonDocument.Parse(await stdout).RootElement;
        foreach (string mode in (string[])["plain", "streamed"])
        {
            var r = result.GetProperty(mode);
            Assert.Equal("tool_calls", r.GetProperty("finish").GetString());
            var calls = r.GetProperty("calls").EnumerateArray().Select(c => new ToolCall(c.GetProperty("id").GetString()!,
                c.GetProperty("function").GetProperty("name").GetString()!, c.GetProperty("function").GetProperty("arguments").GetString()!)).ToList();
            Assert.NotEmpty(calls);
            Assert.Equal(calls.Count, calls.Select(c => c.Id).Distinct().Count());
            foreach (var call in calls)
            {
                Assert.Equal("get_weather", call.Name);
                AssertValidArguments(call.Arguments);
            }
            var follow = r.GetProperty("follow_up");
            Assert.Equal(ExpectedFollowUpPromptTokens(calls), follow.GetProperty("prompt_tokens").GetInt32());
            Assert.NotEqual("tool_calls", follow.GetProperty("finish").GetString());
        }
        // Same seed both ways: the streamed deltas add up to the same calls (parallel calls allowed, so maybe several).
        string Arguments(string mode) => string.Join("|", result.GetProperty(mode).GetProperty("calls").EnumerateArray()
            .Select(c => c.GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal(Arguments("plain"), Arguments("streamed"));
    }

    [Theory]
    [InlineData("""[{"type":"function","function":{"name":"has space"}}]""", "\"auto\"", "tools")]
    [InlineData("""[{"type":"retrieval"}]""", "\"auto\"", "tools")]
    [InlineData("""[null]""", "\"auto\"", "tools")]
    [InlineData("""[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"q":{"type":"string","pattern":"(a)\\1"}}}}}]""", "\"required\"", "tools")]
    [InlineData("""[{"type":"function","function":{"name":"f"}}]""", """{"type":"function","function":{"name":"g"}}""", "tool_choice")]
    [InlineData("""[{"type":"function","function":{"name":"f"}}]""", "\"sometimes\"", "tool_choice")]
    [InlineData("""[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"s":{"type":"string","format":5}}}}}]""", "\"required\"", "tools")]
    public async Task Tool_fields_that_cannot_be_honoured_are_400_naming_the_field(string tools, string choice, string field)
    {
        var (status, body) = await _h.PostAsync("v1/chat/completions",
            $$"""{"messages":[{"role":"user","content":"hi"}],"max_tokens":1,"tools":{{tools}},"tool_choice":{{choice}}}""");
        Assert.True(status == 400, body.ToString());
        Assert.Equal(field, body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_required_call_with_a_json_response_format_is_refused()
    {
        var (status, body) = await _h.PostAsync("v1/chat/completions",
            """{"messages":[{"role":"user","content":"hi"}],"max_tokens":1,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","response_format":{"type":"json_object"}}""");
        Assert.Equal(400, status);
        Assert.Equal("response_format", body.GetProperty("error").GetProperty("param").GetString());
    }
}
