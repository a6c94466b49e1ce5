using System.Collections.Concurrent;

namespace Frugal.Tokenization.ChatTemplates;

/// <summary>
/// A parsed Jinja template. Parsing happens once per distinct template text (cached), rendering is cheap and
/// thread-safe: each render gets its own scopes.
/// </summary>
internal sealed class JinjaTemplate
{
    private static readonly ConcurrentDictionary<string, JinjaTemplate> Cache = new(StringComparer.Ordinal);

    private readonly IReadOnlyList<JinjaNode> _nodes;
    private readonly string _normalizedSource;

    private JinjaTemplate(string source)
    {
        _nodes = JinjaParser.Parse(source, out _normalizedSource);
    }

    public static JinjaTemplate Parse(string source)
    {
        if (Cache.TryGetValue(source, out var cached))
            return cached;
        var parsed = new JinjaTemplate(source);
        // A handful of templates per process; a bound only guards against a caller parsing unbounded variants.
        if (Cache.Count < 256)
            Cache.TryAdd(source, parsed);
        return parsed;
    }

    public string Render(IReadOnlyDictionary<string, object?> variables, Func<DateTimeOffset>? clock = null)
    {
        var evaluator = new JinjaEvaluator(_normalizedSource, JinjaGlobals.Create(clock));
        return evaluator.Render(_nodes, variables);
    }
}
