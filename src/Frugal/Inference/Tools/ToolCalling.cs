using Frugal.Inference.Constraints;
using Frugal.Tokenization.ChatTemplates;

namespace Frugal.Inference.Tools;

/// <summary>
/// What one chat request does with tools, shared by the server and the in-process chat client: the tools the
/// template renders, the grammar that forces a call (tool_choice required or a named function), and the parser
/// that reads calls back out of the output in the model's own format.
/// </summary>
public sealed class ToolCalling
{
    private ToolCalling(ToolCallFormat format, IReadOnlyList<ToolDefinition> tools, GbnfGrammar? grammar, bool parallel)
    {
        Format = format;
        Tools = tools;
        Grammar = grammar;
        Parallel = parallel;
    }

    public ToolCallFormat Format { get; }

    public IReadOnlyList<ToolDefinition> Tools { get; }

    /// <summary>The grammar of a valid call when the choice forces one; null lets the model answer freely.</summary>
    public GbnfGrammar? Grammar { get; }

    /// <summary>Several calls in one reply are allowed (OpenAI's parallel_tool_calls, true by default).</summary>
    public bool Parallel { get; }

    /// <summary>The template variables that show the tools to the model.</summary>
    public IReadOnlyDictionary<string, object?> TemplateVariables => new Dictionary<string, object?>
    {
        ["tools"] = Tools.Select(t => (object?)t.ToTemplateValue()).ToList(),
    };

    /// <summary>
    /// The plan for a request; null when it asks for no tool use (no tools, or tool_choice none), so the prompt is
    /// rendered without tools and the output is plain text.
    /// </summary>
    /// <exception cref="ToolCallingException">the template renders no tools, a named function is not among the tools,
    /// a tool is named twice, or a forced call's parameters use a schema keyword the grammar compiler refuses.</exception>
    public static ToolCalling? Create(ChatTemplate template, IReadOnlyList<ToolDefinition> tools, ToolChoice choice, bool parallel = true)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(tools);
        ArgumentNullException.ThrowIfNull(choice);
        if (choice.Kind == ToolChoiceKind.None) return null;
        if (tools.Count == 0)
            return choice.Forces ? throw new ToolCallingException($"tool_choice '{Describe(choice)}' needs at least one tool", "tool_choice") : null;
        var duplicate = tools.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ToolCallingException($"function '{duplicate.Key}' is defined more than once", "tools");
        var format = ToolCallFormat.FromTemplate(template.Source)
            ?? throw new ToolCallingException("the model's chat template does not render tools, so the model has no tool-call format to follow", "tools");
        GbnfGrammar? grammar = null;
        if (choice.Forces)
        {
            var allowed = tools;
            if (choice.Kind == ToolChoiceKind.Function)
            {
                allowed = [.. tools.Where(t => t.Name == choice.FunctionName)];
                if (allowed.Count == 0) throw new ToolCallingException($"tool_choice names function '{choice.FunctionName}', which is not among the tools", "tool_choice");
            }
            try
            {
                grammar = format.Grammar(allowed, parallel && choice.Kind == ToolChoiceKind.Required);
            }
            catch (JsonSchemaException e)
            {
                throw new ToolCallingException($"the parameters of a function cannot be enforced: {e.Message}", "tools");
            }
            catch (GrammarFormatException e)
            {
                throw new ToolCallingException($"the parameters of a function cannot be enforced: {e.Message}", "tools");
            }
        }
        return new ToolCalling(format, tools, grammar, parallel);
    }

    /// <summary>The output split into content and calls; without parallel calls only the first call is kept.</summary>
    public ParsedToolOutput Parse(string text)
    {
        var parsed = Format.Parse(text);
        return Parallel || parsed.Calls.Count <= 1 ? parsed : parsed with { Calls = [parsed.Calls[0]] };
    }

    /// <summary>A filter for one streamed choice: text before a call goes out as it comes, the call is read at the end.</summary>
    public ToolCallStream Stream() => new(this);

    private static string Describe(ToolChoice choice) => choice.Kind == ToolChoiceKind.Function ? $"function {choice.FunctionName}" : choice.Kind.ToString().ToLowerInvariant();
}

/// <summary>A tool request that cannot be honoured; <see cref="Field"/> names the request field at fault.</summary>
public sealed class ToolCallingException(string message, string field) : ArgumentException(message)
{
    public string Field { get; } = field;
}
