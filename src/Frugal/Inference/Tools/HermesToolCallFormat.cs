using System.Text;

namespace Frugal.Inference.Tools;

/// <summary>
/// Qwen2.5/Qwen3 (Hermes 2 Pro's convention): each call is <c>&lt;tool_call&gt;\n{"name": "f", "arguments": {...}}\n&lt;/tool_call&gt;</c>,
/// several in a row for parallel calls; text may come before them.
/// </summary>
internal sealed class HermesToolCallFormat : ToolCallFormat
{
    private const string Open = "<tool_call>", Close = "</tool_call>";

    public override string Name => "hermes";

    public override ParsedToolOutput Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var calls = new List<ToolCall>();
        var content = new StringBuilder();
        int at = 0;
        while (true)
        {
            int open = text.IndexOf(Open, at, StringComparison.Ordinal);
            if (open < 0) break;
            if (!TryReadJson(text, open + Open.Length, out var json, out int end) || CallFrom(json, "arguments") is not ToolCall call)
                break;
            int after = end;
            while (after < text.Length && char.IsWhiteSpace(text[after])) after++;
            // The closing tag may be missing when generation stopped right after the object.
            if (string.CompareOrdinal(text, after, Close, 0, Close.Length) == 0) after += Close.Length;
            else if (after < text.Length) break;
            content.Append(text, at, open - at);
            calls.Add(call);
            at = after;
        }
        content.Append(text, at, text.Length - at);
        return new ParsedToolOutput(calls.Count > 0 ? content.ToString().Trim() : text, calls);
    }

    public override int CallStart(string text)
    {
        int open = text.IndexOf(Open, StringComparison.Ordinal);
        return open >= 0 ? open : PartialMarker(text, Open);
    }

    private protected override string CallPrefix(string name) => $"{Open}\n{{\"name\": \"{name}\", \"arguments\": ";

    private protected override string CallSuffix => "}\n" + Close;

    private protected override string RootRules(bool parallel) => parallel ? "root ::= tool-call (\"\\n\" tool-call)*" : "root ::= tool-call";
}
