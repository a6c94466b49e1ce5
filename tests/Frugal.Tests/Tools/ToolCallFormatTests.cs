using System.Text.Json;
using Frugal.Inference.Tools;
using Frugal.Tests.Architecture;
using Frugal.Tokenization.ChatTemplates;

namespace Frugal.Tests.Tools;

/// <summary>
/// Each family's tool-call format is read off its real template, and a call as the template itself renders it in a
/// past assistant turn (the goldens, made by an independent Jinja implementation) parses back into the call.
/// </summary>
public class ToolCallFormatTests
{
    private static readonly JsonElement Goldens = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(LayerDirectionTests.RepoRoot(), "tests", "Frugal.Tests", "Fixtures", "chat", "goldens.json"))).RootElement.Clone();

    [Theory]
    [InlineData(ToolTemplates.Qwen25, "hermes")]
    [InlineData(ToolTemplates.Qwen3, "hermes")]
    [InlineData(ToolTemplates.Llama32, "llama3-json")]
    [InlineData(ToolTemplates.MistralNemo, "mistral")]
    [InlineData("llama3.jinja", null)]
    [InlineData("gemma3.jinja", null)]
    [InlineData("microsoft-Phi-3.5-mini-instruct.jinja", null)]
    [InlineData("mistralai-Mistral-7B-Instruct-v0.1.jinja", null)]
    public void The_format_is_chosen_from_the_template(string file, string? format) =>
        Assert.Equal(format, ToolCallFormat.FromTemplate(ToolTemplates.Source(file))?.Name);

    /// <summary>The assistant turn of the golden "tools" conversation: the call as the template renders it.</summary>
    private static string GoldenAssistantTurn(string family, string start, string end)
    {
        var golden = Goldens.GetProperty("goldens").EnumerateArray()
            .Single(g => g.GetProperty("template").GetString() == family && g.GetProperty("case").GetString() == "tools" && g.GetProperty("add_generation_prompt").GetBoolean());
        string text = golden.GetProperty("expected").GetString()!;
        int from = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        return text[from..text.IndexOf(end, from, StringComparison.Ordinal)];
    }

    private static void AssertWeatherCall(ToolCall call)
    {
        Assert.Equal("get_weather", call.Name);
        using var args = JsonDocument.Parse(call.Arguments);
        Assert.Equal("Paris", args.RootElement.GetProperty("city").GetString());
        Assert.Equal(1, args.RootElement.GetProperty("days").GetInt32());
        Assert.Equal(2, args.RootElement.EnumerateObject().Count());
        Assert.False(string.IsNullOrEmpty(call.Id));
    }

    [Theory]
    [InlineData("qwen2_5", "<|im_start|>assistant\n", "<|im_end|>", "hermes")]
    [InlineData("qwen3", "<|im_start|>assistant\n", "<|im_end|>", "hermes")]
    [InlineData("llama3_2", "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>", "llama3-json")]
    public void A_call_as_the_golden_renders_it_parses_back(string family, string start, string end, string format)
    {
        string turn = GoldenAssistantTurn(family, start, end);
        var parsed = Formats[format].Parse(turn);
        Assert.Equal("", parsed.Content);
        AssertWeatherCall(Assert.Single(parsed.Calls));
    }

    private static readonly Dictionary<string, ToolCallFormat> Formats = new()
    {
        ["hermes"] = ToolCallFormat.Hermes, ["llama3-json"] = ToolCallFormat.LlamaJson, ["mistral"] = ToolCallFormat.Mistral,
    };

    [Fact]
    public void Mistral_call_rendered_by_the_nemo_template_parses_back_with_its_id()
    {
        // The golden "tools" case has two user turns in a row, which Nemo's template refuses; a shorter conversation shows the call.
        var template = ToolTemplates.Template(ToolTemplates.MistralNemo);
        var call = new ToolCall("abcDEF123", "get_weather", """{"city": "Paris", "days": 1}""");
        string text = template.Render([ChatMessage.User("Weather in Paris?"), ToolMessages.Assistant(null, [call])], addGenerationPrompt: false);
        int marker = text.IndexOf("[TOOL_CALLS]", StringComparison.Ordinal);
        Assert.True(marker > 0, text);
        string turn = text[marker..text.LastIndexOf("</s>", StringComparison.Ordinal)];
        var parsed = ToolCallFormat.Mistral.Parse(turn);
        var back = Assert.Single(parsed.Calls);
        AssertWeatherCall(back);
        Assert.Equal("abcDEF123", back.Id);
        // [TOOL_CALLS] is a control token a detokenizer may drop: the bare array reads the same.
        AssertWeatherCall(Assert.Single(ToolCallFormat.Mistral.Parse(turn["[TOOL_CALLS]".Length..]).Calls));
    }

    [Fact]
    public void Mistral_ids_are_nine_letters_or_digits_as_the_template_requires()
    {
        for (int i = 0; i < 20; i++)
            Assert.Matches("^[A-Za-z0-9]{9}$", ToolCallFormat.Mistral.NewCallId());
    }

    [Fact]
    public void Hermes_reads_text_before_calls_and_several_calls()
    {
        string text = "Let me check.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": \"{\\\"y\\\": 2}\"}\n</tool_call>";
        var parsed = ToolCallFormat.Hermes.Parse(text);
        Assert.Equal("Let me check.", parsed.Content);
        Assert.Equal(["a", "b"], parsed.Calls.Select(c => c.Name));
        Assert.Equal("""{"x": 1}""", parsed.Calls[0].Arguments);
        Assert.Equal("""{"y": 2}""", parsed.Calls[1].Arguments); // arguments written as a JSON string are unwrapped
        Assert.NotEqual(parsed.Calls[0].Id, parsed.Calls[1].Id);
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": }\n</tool_call>")] // broken JSON
    [InlineData("<tool_call>\n{\"arguments\": {}}\n</tool_call>")] // no name
    [InlineData("I would call <tool_call> but no.")]
    public void Hermes_leaves_malformed_calls_as_text(string text)
    {
        var parsed = ToolCallFormat.Hermes.Parse(text);
        Assert.Empty(parsed.Calls);
        Assert.Equal(text, parsed.Content);
    }

    [Theory]
    [InlineData("{\"name\": \"f\", \"parameters\": {\"q\": \"x\"}}", 1)]
    [InlineData("<|python_tag|>{\"name\": \"f\", \"parameters\": {}}", 1)]
    [InlineData("  {\"name\": \"f\", \"arguments\": {}}; {\"name\": \"g\", \"parameters\": {}}", 2)]
    [InlineData("The answer is {\"name\": \"f\"}", 0)] // a call is the whole reply, not JSON inside prose
    [InlineData("{\"city\": \"Paris\"}", 0)] // JSON without a name is an answer, not a call
    public void Llama_json_is_a_call_only_when_the_reply_is_the_call_object(string text, int calls)
    {
        var parsed = ToolCallFormat.LlamaJson.Parse(text);
        Assert.Equal(calls, parsed.Calls.Count);
        if (calls == 0) Assert.Equal(text, parsed.Content);
    }

    [Fact]
    public void A_stream_releases_text_before_the_call_and_holds_the_call_to_the_end()
    {
        var tools = ToolCalling.Create(ToolTemplates.Template(ToolTemplates.Qwen3), [new ToolDefinition("f")], ToolChoice.Auto)!;
        var stream = tools.Stream();
        Assert.Equal("Sure", stream.Push("Sure"));
        Assert.Equal(" ", stream.Push(" <tool")); // "<tool" may begin a call: held
        Assert.Equal("", stream.Push("_call>\n{\"name\": \"f\", "));
        Assert.Equal("", stream.Push("\"arguments\": {}}\n</tool_call>"));
        var (tail, calls) = stream.Finish();
        Assert.Equal("", tail);
        Assert.Equal("f", Assert.Single(calls).Name);

        var plain = tools.Stream();
        Assert.Equal("a ", plain.Push("a <"));
        Assert.Equal("<b>", plain.Push("b>")); // no call after all: released as soon as that is clear
        Assert.Equal("", plain.Push("<tool_c"));
        var (held, none) = plain.Finish();
        Assert.Equal("<tool_c", held);
        Assert.Empty(none);
    }

    [Fact]
    public void Without_parallel_calls_only_the_first_call_is_kept()
    {
        var tools = ToolCalling.Create(ToolTemplates.Template(ToolTemplates.Qwen3), [new ToolDefinition("a"), new ToolDefinition("b")], ToolChoice.Auto, parallel: false)!;
        var parsed = tools.Parse("<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>");
        Assert.Equal("a", Assert.Single(parsed.Calls).Name);
    }

    [Fact]
    public void Tool_requests_the_template_or_the_tools_cannot_honour_are_refused_by_field()
    {
        var qwen = ToolTemplates.Template(ToolTemplates.Qwen3);
        var f = new ToolDefinition("f");
        Assert.Equal("tools", Assert.Throws<ToolCallingException>(() => ToolCalling.Create(new ChatTemplate(ToolTemplates.Source("llama3.jinja")), [f], ToolChoice.Auto)).Field);
        Assert.Equal("tool_choice", Assert.Throws<ToolCallingException>(() => ToolCalling.Create(qwen, [f], ToolChoice.Function("g"))).Field);
        Assert.Equal("tool_choice", Assert.Throws<ToolCallingException>(() => ToolCalling.Create(qwen, [], ToolChoice.Required)).Field);
        Assert.Equal("tools", Assert.Throws<ToolCallingException>(() => ToolCalling.Create(qwen, [f, new ToolDefinition("f")], ToolChoice.Auto)).Field);
        using var pattern = JsonDocument.Parse("""{"type":"object","properties":{"q":{"type":"string","pattern":"^(a)\\1"}}}""");
        var e = Assert.Throws<ToolCallingException>(() => ToolCalling.Create(qwen, [new ToolDefinition("p", null, pattern.RootElement)], ToolChoice.Required));
        Assert.Contains("pattern", e.Message);
        Assert.Throws<ArgumentException>(() => new ToolDefinition("has space"));
        Assert.Null(ToolCalling.Create(qwen, [f], ToolChoice.None));
        Assert.Null(ToolCalling.Create(qwen, [], ToolChoice.Auto));
    }
}
