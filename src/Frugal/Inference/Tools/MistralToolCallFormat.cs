using System.Text.Json;

namespace Frugal.Inference.Tools;

/// <summary>
/// Mistral v0.3 and Nemo: <c>[TOOL_CALLS][{"name": "f", "arguments": {...}, "id": "abcDEF123"}, ...]</c>. Call ids
/// are 9 letters or digits, which the template checks when the call is sent back. [TOOL_CALLS] is a control token
/// that a detokenizer may drop, so a reply that starts with the array itself is read as calls too.
/// </summary>
internal sealed class MistralToolCallFormat : ToolCallFormat
{
    private const string Marker = "[TOOL_CALLS]";
    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    public override string Name => "mistral";

    public override ParsedToolOutput Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int marker = text.IndexOf(Marker, StringComparison.Ordinal);
        int arrayAt;
        if (marker >= 0) arrayAt = marker + Marker.Length;
        else
        {
            arrayAt = 0;
            while (arrayAt < text.Length && char.IsWhiteSpace(text[arrayAt])) arrayAt++;
            if (arrayAt == text.Length || text[arrayAt] != '[') return new ParsedToolOutput(text, []);
            marker = arrayAt;
        }
        if (!TryReadJson(text, arrayAt, out var array, out int end) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            return new ParsedToolOutput(text, []);
        var calls = new List<ToolCall>();
        foreach (var item in array.EnumerateArray())
        {
            if (CallFrom(item, "arguments") is not ToolCall call) return new ParsedToolOutput(text, []);
            calls.Add(call);
        }
        return new ParsedToolOutput((text[..marker] + text[end..]).Trim(), calls);
    }

    public override int CallStart(string text)
    {
        int marker = text.IndexOf(Marker, StringComparison.Ordinal);
        if (marker >= 0) return marker;
        int k = 0;
        while (k < text.Length && char.IsWhiteSpace(text[k])) k++;
        if (k < text.Length && text[k] == '[') return k;
        return PartialMarker(text, Marker);
    }

    public override string NewCallId() => string.Create(9, 0, (span, _) =>
    {
        for (int i = 0; i < span.Length; i++) span[i] = IdAlphabet[Random.Shared.Next(IdAlphabet.Length)];
    });

    private protected override string CallPrefix(string name) => $"{{\"name\": \"{name}\", \"arguments\": ";

    private protected override string CallSuffix => "}";

    private protected override string RootRules(bool parallel) =>
        parallel ? "root ::= \"[TOOL_CALLS][\" tool-call (\", \" tool-call)* \"]\"" : "root ::= \"[TOOL_CALLS][\" tool-call \"]\"";
}
