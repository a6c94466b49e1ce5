using System.Text.Json;
using Frugal.Inference.Tools;
using Frugal.Tokenization.ChatTemplates;

namespace Frugal.Server.Protocol;

/// <summary>
/// OpenAI's tool fields of a chat request (<c>tools</c>, <c>tool_choice</c>, <c>parallel_tool_calls</c>, and the
/// <c>tool_calls</c>/<c>tool</c> turns of the conversation) read into the engine's terms; each mistake is a 400
/// naming the field.
/// </summary>
internal static class ChatTools
{
    /// <summary>The request's tool plan; null when it asks for no tool use.</summary>
    public static ToolCalling? From(ChatCompletionRequest body, ChatTemplate template)
    {
        var tools = Tools(body.Tools);
        var choice = Choice(body.ToolChoice, tools.Count > 0);
        try
        {
            return ToolCalling.Create(template, tools, choice, body.ParallelToolCalls ?? true);
        }
        catch (ToolCallingException e)
        {
            throw ApiError.BadRequest(e.Message, e.Field);
        }
    }

    /// <summary>One conversation turn, with its tool calls or the tool result it carries.</summary>
    public static ChatMessage Message(ChatMessageDto m, int index)
    {
        string role = m.Role == "developer" ? "system" : m.Role!;
        if (role == "tool")
            return ToolMessages.Result(m.ToolCallId, m.Name, m.Content ?? "");
        if (role == "assistant" && m.ToolCalls is { Count: > 0 } calls)
            return ToolMessages.Assistant(m.Content, [.. calls.Select((c, j) => Call(c, $"messages[{index}].tool_calls[{j}]"))]);
        return new ChatMessage(role, m.Content ?? "");
    }

    private static ToolCall Call(ToolCallDto? c, string where)
    {
        if (c is null) throw ApiError.BadRequest($"{where} must be a tool call object, got null", "messages");
        if (c.Type is not (null or "function")) throw ApiError.BadRequest($"{where}.type must be 'function', got '{c.Type}'", "messages");
        if (c.Function?.Name is not { Length: > 0 } name) throw ApiError.BadRequest($"{where}.function.name is required", "messages");
        return new ToolCall(c.Id ?? "", name, c.Function.Arguments ?? "{}");
    }

    private static List<ToolDefinition> Tools(List<ToolDto?>? list)
    {
        var tools = new List<ToolDefinition>();
        if (list is null) return tools;
        if (list.Count > 128) throw ApiError.BadRequest($"tools holds at most 128 functions, got {list.Count}", "tools");
        for (int i = 0; i < list.Count; i++)
        {
            var t = list[i] ?? throw ApiError.BadRequest($"tools[{i}] must be a tool object, got null", "tools");
            if (t.Type != "function") throw ApiError.BadRequest($"tools[{i}].type must be 'function', got '{t.Type}'", "tools");
            if (t.Function is null) throw ApiError.BadRequest($"tools[{i}].function is required", "tools");
            if (t.Function.Parameters is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
                throw ApiError.BadRequest($"tools[{i}].function.parameters must be a JSON Schema object", "tools");
            try
            {
                tools.Add(new ToolDefinition(t.Function.Name ?? "", t.Function.Description, t.Function.Parameters));
            }
            catch (ArgumentException e)
            {
                throw ApiError.BadRequest($"tools[{i}].function: {e.Message.Split(" (Parameter")[0]}", "tools");
            }
        }
        return tools;
    }

    private static ToolChoice Choice(JsonElement? field, bool haveTools)
    {
        if (field is not JsonElement c || c.ValueKind == JsonValueKind.Null) return haveTools ? ToolChoice.Auto : ToolChoice.None;
        if (c.ValueKind == JsonValueKind.String)
        {
            string? value = null;
            try { value = c.GetString(); }
            catch (InvalidOperationException) { } // not valid UTF-16: refused below
            return value switch
            {
                "none" => ToolChoice.None,
                "auto" => ToolChoice.Auto,
                "required" => ToolChoice.Required,
                _ => throw ApiError.BadRequest("tool_choice must be 'none', 'auto', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}", "tool_choice"),
            };
        }
        if (c.ValueKind == JsonValueKind.Object && c.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
            && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
            && (!c.TryGetProperty("type", out var type) || (type.ValueKind == JsonValueKind.String && type.ValueEquals("function"))))
        {
            string? name = null;
            try { name = n.GetString(); }
            catch (InvalidOperationException) { }
            if (!string.IsNullOrEmpty(name)) return ToolChoice.Function(name);
        }
        throw ApiError.BadRequest("tool_choice must be 'none', 'auto', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}", "tool_choice");
    }
}
