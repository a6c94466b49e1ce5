namespace Frugal.Tokenization.ChatTemplates;

/// <summary>
/// One turn of a conversation as chat templates see it: a dict with "role" and "content", plus optional
/// "reasoning_content" (Qwen3 thinking) and any other fields a template reads (tool_calls, tool_call_id, name).
/// </summary>
/// <param name="Content">The text; null renders as Python's None (templates usually test for it).</param>
public sealed record ChatMessage(string Role, string? Content) : IChatTemplateValue
{
    public string? ReasoningContent { get; init; }

    /// <summary>Further fields: strings, numbers, booleans, lists, string-keyed dictionaries or JSON elements.</summary>
    public IReadOnlyDictionary<string, object?>? Extra { get; init; }

    public static ChatMessage System(string content) => new("system", content);

    public static ChatMessage User(string content) => new("user", content);

    public static ChatMessage Assistant(string content) => new("assistant", content);

    object? IChatTemplateValue.ToTemplateValue()
    {
        var fields = new Dictionary<string, object?> { ["role"] = Role, ["content"] = Content };
        if (ReasoningContent is not null) fields["reasoning_content"] = ReasoningContent;
        if (Extra is not null)
            foreach (var (k, v) in Extra) fields[k] = v;
        return fields;
    }
}
