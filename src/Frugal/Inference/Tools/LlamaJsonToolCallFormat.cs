namespace Frugal.Inference.Tools;

/// <summary>
/// Llama 3.1/3.2 with custom tools: the reply is one JSON object <c>{"name": "f", "parameters": {...}}</c>
/// (optionally after <c>&lt;|python_tag|&gt;</c>; several separated by ';' are read too). Text that does not start with
/// the object is plain content.
/// </summary>
internal sealed class LlamaJsonToolCallFormat : ToolCallFormat
{
    private const string PythonTag = "<|python_tag|>";

    public override string Name => "llama3-json";

    public override ParsedToolOutput Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int at = Start(text);
        if (string.CompareOrdinal(text, at, PythonTag, 0, PythonTag.Length) == 0) at += PythonTag.Length;
        var calls = new List<ToolCall>();
        while (TryReadJson(text, at, out var json, out int end) && CallFrom(json, "parameters", "arguments") is ToolCall call)
        {
            calls.Add(call);
            at = Start(text, end);
            if (at < text.Length && text[at] == ';') at++;
            else break;
        }
        if (calls.Count == 0) return new ParsedToolOutput(text, []);
        return new ParsedToolOutput(text[Math.Min(at, text.Length)..].Trim(), calls);
    }

    public override int CallStart(string text)
    {
        int k = Start(text);
        if (k == text.Length) return text.Length == 0 ? -1 : 0; // only whitespace so far: a call may still follow
        if (text[k] == '{') return k;
        var rest = text.AsSpan(k);
        return rest.StartsWith(PythonTag, StringComparison.Ordinal) || PythonTag.AsSpan().StartsWith(rest, StringComparison.Ordinal) ? k : -1;
    }

    private static int Start(string text, int from = 0)
    {
        while (from < text.Length && char.IsWhiteSpace(text[from])) from++;
        return from;
    }

    private protected override string CallPrefix(string name) => $"{{\"name\": \"{name}\", \"parameters\": ";

    private protected override string CallSuffix => "}";

    // Llama 3.x templates show one call per reply; parallel calls, when allowed, are joined with "; ".
    private protected override string RootRules(bool parallel) => parallel ? "root ::= tool-call (\"; \" tool-call)*" : "root ::= tool-call";
}
