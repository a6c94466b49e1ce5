using System.Text.Json;
using Frugal.Tokenization.ChatTemplates;

namespace Frugal.Inference.Tools;

/// <summary>
/// Conversation turns that carry tool use, in the shape Hugging Face chat templates read (as transformers passes
/// them): an assistant turn with <c>tool_calls</c> whose arguments are objects, and a <c>tool</c> turn with the result.
/// </summary>
public static class ToolMessages
{
    /// <summary>An assistant turn that made calls; arguments that are JSON objects reach the template as objects.</summary>
    public static ChatMessage Assistant(string? content, IReadOnlyList<ToolCall> calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        var list = calls.Select(c => (object?)new Dictionary<string, object?>
        {
            ["type"] = "function",
            ["id"] = c.Id,
            ["function"] = new Dictionary<string, object?> { ["name"] = c.Name, ["arguments"] = Arguments(c.Arguments) },
        }).ToList();
        return new ChatMessage("assistant", content ?? "") { Extra = new Dictionary<string, object?> { ["tool_calls"] = list } };
    }

    /// <summary>The result of call <paramref name="callId"/>; <paramref name="name"/> is the function's, when known.</summary>
    public static ChatMessage Result(string? callId, string? name, string content)
    {
        var extra = new Dictionary<string, object?>();
        if (callId is not null) extra["tool_call_id"] = callId;
        if (name is not null) extra["name"] = name;
        return new ChatMessage("tool", content) { Extra = extra.Count > 0 ? extra : null };
    }

    private static object? Arguments(string arguments)
    {
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : arguments;
        }
        catch (JsonException)
        {
            return arguments;
        }
    }
}
