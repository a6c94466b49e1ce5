namespace Frugal.Inference.Constraints;

/// <summary>A JSON Schema that cannot be turned into a grammar: a keyword this engine does not implement (named, with
/// where it is), or a malformed schema. Never silently loosened into a schema that accepts more.</summary>
public sealed class JsonSchemaException(string message, string? keyword = null) : FormatException(message)
{
    /// <summary>The unsupported keyword, when that is the problem.</summary>
    public string? Keyword { get; } = keyword;
}
