using System.Text.Json;
using System.Text.RegularExpressions;

namespace Frugal.Inference.Tools;

/// <summary>
/// A function the model may call (OpenAI's <c>{"type":"function","function":{...}}</c>): its name, what it does,
/// and the JSON Schema of its arguments, which a required call's arguments are constrained to.
/// </summary>
public sealed partial record ToolDefinition
{
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement.Clone();

    /// <exception cref="ArgumentException">the name is not 1..64 letters, digits, '_' or '-' (OpenAI's rule), or the
    /// parameters are not a JSON object.</exception>
    public ToolDefinition(string name, string? description = null, JsonElement? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!NamePattern().IsMatch(name))
            throw new ArgumentException($"a function name must be 1 to 64 letters, digits, '_' or '-', got '{name}'", nameof(name));
        if (parameters is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null) })
            throw new ArgumentException($"the parameters of function '{name}' must be a JSON Schema object", nameof(parameters));
        Name = name;
        Description = description;
        Parameters = parameters is { ValueKind: JsonValueKind.Object } p ? p.Clone() : EmptyObject;
    }

    public string Name { get; }

    public string? Description { get; }

    /// <summary>The JSON Schema of the arguments object; <c>{"type":"object","properties":{}}</c> when none was given.</summary>
    public JsonElement Parameters { get; }

    /// <summary>The tool as chat templates receive it in <c>tools</c>: the OpenAI object, keys in OpenAI's order.</summary>
    public Dictionary<string, object?> ToTemplateValue()
    {
        var function = new Dictionary<string, object?> { ["name"] = Name };
        if (Description is not null) function["description"] = Description;
        function["parameters"] = Parameters;
        return new Dictionary<string, object?> { ["type"] = "function", ["function"] = function };
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex NamePattern();
}

/// <summary>One call the model made: an id to answer it by, the function's name and its arguments as JSON text.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments);

/// <summary>What the request lets the model do with its tools (OpenAI's <c>tool_choice</c>).</summary>
public enum ToolChoiceKind
{
    /// <summary>Never call: tools are not shown to the model and its output is not parsed for calls.</summary>
    None,

    /// <summary>The model decides; calls in its own format are parsed out of the output.</summary>
    Auto,

    /// <summary>At least one call, of any tool: decoding is constrained to the format's call syntax.</summary>
    Required,

    /// <summary>A call of <see cref="ToolChoice.FunctionName"/>, constrained likewise.</summary>
    Function,
}

public sealed record ToolChoice(ToolChoiceKind Kind, string? FunctionName = null)
{
    public static ToolChoice None { get; } = new(ToolChoiceKind.None);

    public static ToolChoice Auto { get; } = new(ToolChoiceKind.Auto);

    public static ToolChoice Required { get; } = new(ToolChoiceKind.Required);

    public static ToolChoice Function(string name) => new(ToolChoiceKind.Function, name ?? throw new ArgumentNullException(nameof(name)));

    /// <summary>Decoding must produce a call.</summary>
    public bool Forces => Kind is ToolChoiceKind.Required or ToolChoiceKind.Function;
}

/// <summary>An output split into the text meant for the user and the calls the model made.</summary>
public sealed record ParsedToolOutput(string Content, IReadOnlyList<ToolCall> Calls);
