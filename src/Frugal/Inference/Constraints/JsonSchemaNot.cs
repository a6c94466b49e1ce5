using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Frugal.Inference.Constraints;

/// <summary>
/// The forms of <c>not</c> real schemas use: not {required: [...]} (see the merge), not {enum/const: values} (the
/// values are left out: enum values filtered, strings written by a grammar that steers around each excluded word,
/// booleans filtered), and not {properties: {p: {enum/const: values}}} ("p, if present, is not one of them": the
/// object is written with p, outside the values). Where the excluded schema has further conjuncts (a type), leaving
/// out only the values is narrower than the schema, never wider. Other forms are refused by name.
/// </summary>
public sealed partial class JsonSchemaGrammar
{
    /// <summary>The values of a not {enum/const} (annotations and a type may sit next to them).</summary>
    private static bool ExcludedValues(JsonElement not, out List<JsonElement> values)
    {
        values = [];
        if (not.ValueKind != JsonValueKind.Object || !Has(not, "enum", "const")
            || not.EnumerateObject().Any(p => p.Name is not ("enum" or "const" or "type") && Validates(p.Name))) return false;
        if (not.TryGetProperty("const", out var c)) values.Add(c);
        if (not.TryGetProperty("enum", out var e))
        {
            if (e.ValueKind != JsonValueKind.Array) return false;
            values.AddRange(e.EnumerateArray());
        }
        return true;
    }

    /// <summary>not {type: object, properties: {p: {enum/const}}}: p and the values it must not take (the first such
    /// property, when several: excluding one is enough to fail the inner schema).</summary>
    private static (string Name, List<JsonElement> Values)? ExcludedProperty(JsonElement not)
    {
        if (not.ValueKind != JsonValueKind.Object || !not.TryGetProperty("properties", out var props) || props.ValueKind != JsonValueKind.Object
            || not.EnumerateObject().Any(p => p.Name is not ("properties" or "type") && Validates(p.Name))) return null;
        if (not.TryGetProperty("type", out var t) && !(t.ValueKind == JsonValueKind.String && t.GetString() == "object")) return null;
        foreach (var p in props.EnumerateObject())
            if (ExcludedValues(p.Value, out var values)) return (p.Name, values);
        return null;
    }

    /// <summary>The values a schema's not {enum/const} leaves out (none when it has no such not).</summary>
    private static List<JsonElement> Excluded(JsonElement s) =>
        s.ValueKind == JsonValueKind.Object && s.TryGetProperty("not", out var not) && ExcludedValues(not, out var values) ? values : [];

    private static JsonElement NotValues(IEnumerable<JsonElement> values) =>
        JsonSerializer.SerializeToElement(new JsonObject { ["not"] = new JsonObject { ["enum"] = new JsonArray([.. values.Select(v => JsonNode.Parse(v.GetRawText()))]) } });

    /// <summary>Refuses a typed value whose excluded values the grammar cannot steer around.</summary>
    private static void RequireNoExcluded(JsonElement s, JsonValueKind kind, string type, string path)
    {
        if (Excluded(s).Any(v => v.ValueKind == kind || (kind == JsonValueKind.True && v.ValueKind == JsonValueKind.False)))
            throw new JsonSchemaException($"'not' with {type} values (at {path}) is not supported", "not");
    }

    /// <summary>Strings other than the excluded words: a walk down the trie of those words that may stop where no word
    /// ends, or leave the trie with a character no word continues with (then anything follows).</summary>
    private string StringOutside(IReadOnlyCollection<string> words, string path, string hint)
    {
        if (words.Any(w => w.Any(char.IsSurrogate))) throw new JsonSchemaException($"'not' with strings outside the Basic Multilingual Plane (at {path}) is not supported", "not");
        string Node(string prefix, int depth)
        {
            var below = words.Where(w => w.Length > prefix.Length && w.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            bool ends = words.Contains(prefix);
            if (below.Count == 0) return ends ? "json-char+" : "json-char*";
            var next = below.Select(w => w[prefix.Length]).Distinct().Order().ToList();
            var alts = new List<string>();
            if (!ends) alts.Add("\"\"");
            var cls = new StringBuilder("[^\"\\\\\\x7F\\x00-\\x1F");
            foreach (char c in next) if (c >= 0x20 && c is not ('"' or '\\' or '\x7F')) cls.Append($"\\u{(int)c:X4}");
            alts.Add($"{cls}] json-char*");
            // A word's next character that JSON writes as an escape is never written here (narrower).
            foreach (char c in next.Where(c => c >= 0x20 && c is not ('"' or '\\' or '\x7F')))
                alts.Add($"{GbnfLiteral(c.ToString())} {Node(prefix + c, depth + 1)}");
            return Rule($"{hint}-not{depth}", string.Join(" | ", alts));
        }
        return Rule(hint, $"\"\\\"\" {Node("", 0)} \"\\\"\" ws");
    }
}
