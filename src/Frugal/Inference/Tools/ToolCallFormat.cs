using System.Text;
using System.Text.Json;
using Frugal.Inference.Constraints;

namespace Frugal.Inference.Tools;

/// <summary>
/// How a model family writes tool calls in its output, read off its chat template (the template shows the model
/// its own format in the tools prompt and in past assistant turns): parsing the output back into calls, finding
/// where a call may start while streaming, and the grammar of a valid call when one is required.
/// </summary>
public abstract class ToolCallFormat
{
    /// <summary>Qwen2.5/Qwen3 and Hermes 2 Pro: <c>&lt;tool_call&gt;{"name": ..., "arguments": {...}}&lt;/tool_call&gt;</c>.</summary>
    public static ToolCallFormat Hermes { get; } = new HermesToolCallFormat();

    /// <summary>Llama 3.1/3.2: the whole reply is <c>{"name": ..., "parameters": {...}}</c>.</summary>
    public static ToolCallFormat LlamaJson { get; } = new LlamaJsonToolCallFormat();

    /// <summary>Mistral (v0.3, Nemo): <c>[TOOL_CALLS][{"name": ..., "arguments": {...}, "id": ...}]</c>.</summary>
    public static ToolCallFormat Mistral { get; } = new MistralToolCallFormat();

    /// <summary>A short name for logs and errors ("hermes", "llama3-json", "mistral").</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The format a chat template teaches, told by the markers it writes (as llama.cpp's chat parser picks one);
    /// null for a template that does not render tools at all.
    /// </summary>
    public static ToolCallFormat? FromTemplate(string templateSource)
    {
        ArgumentNullException.ThrowIfNull(templateSource);
        if (templateSource.Contains("[TOOL_CALLS]", StringComparison.Ordinal)) return Mistral;
        if (templateSource.Contains("<tool_call>", StringComparison.Ordinal)) return Hermes;
        if (templateSource.Contains("<|python_tag|>", StringComparison.Ordinal)
            || (templateSource.Contains("ipython", StringComparison.Ordinal) && templateSource.Contains("\"parameters\"", StringComparison.Ordinal)))
            return LlamaJson;
        return null;
    }

    /// <summary>Splits an output into its text and the calls written in this format; malformed calls stay text.</summary>
    public abstract ParsedToolOutput Parse(string text);

    /// <summary>
    /// Where in the output so far a call starts or may still start (a marker's beginning at the end of the text),
    /// so a stream releases text only before it; -1 when no call can start in this text.
    /// </summary>
    public abstract int CallStart(string text);

    /// <summary>A fresh call id of the shape the family's template accepts back.</summary>
    public virtual string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    /// <summary>The text of one call before its arguments object.</summary>
    private protected abstract string CallPrefix(string name);

    /// <summary>The text of one call after its arguments object.</summary>
    private protected abstract string CallSuffix { get; }

    /// <summary>GBNF rules (root first) over the rule <c>tool-call</c> (one call of any allowed tool).</summary>
    private protected abstract string RootRules(bool parallel);

    /// <summary>
    /// The grammar of a reply that is one call (or, with <paramref name="parallel"/>, one or more calls) of the given
    /// tools in this format, each call's arguments matching its tool's JSON Schema.
    /// </summary>
    /// <exception cref="JsonSchemaException">a tool's parameters use a keyword the schema compiler does not support.</exception>
    public GbnfGrammar Grammar(IReadOnlyList<ToolDefinition> tools, bool parallel)
    {
        ArgumentNullException.ThrowIfNull(tools);
        if (tools.Count == 0) throw new ArgumentException("a tool-call grammar needs at least one tool", nameof(tools));
        string gbnf = JsonSchemaGrammar.ToGbnf([.. tools.Select(t => t.Parameters)], values =>
        {
            var calls = values.Select((v, i) => $"{JsonSchemaGrammar.GbnfLiteral(CallPrefix(tools[i].Name))} {v} {JsonSchemaGrammar.GbnfLiteral(CallSuffix)}");
            return RootRules(parallel) + "\ntool-call ::= " + string.Join(" | ", calls);
        });
        return GbnfGrammar.Parse(gbnf);
    }

    /// <summary>The index from which <paramref name="text"/>'s end is a proper prefix of <paramref name="marker"/>; -1 if none.</summary>
    private protected static int PartialMarker(string text, string marker)
    {
        for (int k = Math.Max(0, text.Length - marker.Length + 1); k < text.Length; k++)
            if (marker.AsSpan().StartsWith(text.AsSpan(k), StringComparison.Ordinal)) return k;
        return -1;
    }

    /// <summary>Reads one JSON value starting at <paramref name="start"/> (after whitespace); <paramref name="end"/> is just past it.</summary>
    private protected static bool TryReadJson(string text, int start, out JsonElement value, out int end)
    {
        value = default;
        end = start;
        while (start < text.Length && char.IsWhiteSpace(text[start])) start++;
        if (start >= text.Length) return false;
        byte[] bytes = Encoding.UTF8.GetBytes(text[start..]);
        var reader = new Utf8JsonReader(bytes);
        try
        {
            using var doc = JsonDocument.ParseValue(ref reader);
            value = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return false;
        }
        end = start + Encoding.UTF8.GetCharCount(bytes, 0, (int)reader.BytesConsumed);
        return true;
    }

    /// <summary>A call from <c>{"name": ..., "arguments"|"parameters": ...}</c>; null when the object is not one.</summary>
    private protected ToolCall? CallFrom(JsonElement call, string argumentsKey, string? altArgumentsKey = null)
    {
        if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || string.IsNullOrEmpty(name.GetString()))
            return null;
        string arguments = "{}";
        if (call.TryGetProperty(argumentsKey, out var args) || (altArgumentsKey is not null && call.TryGetProperty(altArgumentsKey, out args)))
        {
            // A model may write the arguments as a JSON string holding the object, as OpenAI sends them.
            if (args.ValueKind == JsonValueKind.String) arguments = args.GetString()!;
            else if (args.ValueKind == JsonValueKind.Object) arguments = args.GetRawText();
            else return null;
        }
        string id = call.TryGetProperty("id", out var given) && given.ValueKind == JsonValueKind.String && given.GetString() is { Length: > 0 } g ? g : NewCallId();
        return new ToolCall(id, name.GetString()!, arguments);
    }
}
