using System.Text.Json;
using System.Text.RegularExpressions;

namespace Frugal.Inference.Constraints;

/// <summary>
/// oneOf asks that a value match exactly one branch. The grammar writes a value of one branch, so oneOf is compiled
/// (as alternatives) only when no value can match two branches: when each pair of branches is told apart by type, by
/// enum/const values, or by a property both require whose enum/const values differ (a discriminator), or one
/// requires that the other's additionalProperties: false forbids. Otherwise it is refused by name.
/// </summary>
public sealed partial class JsonSchemaGrammar
{
    private static readonly string[] AllTypes = ["object", "array", "string", "integer", "number", "boolean", "null"];

    private void RequireDisjoint(IReadOnlyList<JsonElement> branches, string path)
    {
        var flat = branches.Select((b, i) => Merge([b], $"{path}/oneOf/{i}")).ToList();
        for (int i = 0; i < flat.Count; i++)
            for (int j = i + 1; j < flat.Count; j++)
                if (flat[i] is JsonElement a && flat[j] is JsonElement b && !Disjoint(a, b))
                    throw new JsonSchemaException($"'oneOf' at {path}: branches {i} and {j} may both match one value, and the grammar cannot rule that out", "oneOf");
    }

    private static bool Disjoint(JsonElement a, JsonElement b)
    {
        var ta = TypesOf(a);
        var tb = TypesOf(b);
        if (!ta.Any(t => tb.Contains(t) || (t == "integer" && tb.Contains("number")) || (t == "number" && tb.Contains("integer")))) return true;
        if (Values(a) is HashSet<string> va && Values(b) is HashSet<string> vb && !va.Overlaps(vb)) return true;
        if (!(ta.SetEquals(["object"]) && tb.SetEquals(["object"]))) return false;
        var ra = Required(a);
        var rb = Required(b);
        foreach (string name in ra)
        {
            if (rb.Contains(name) && PropertyValues(a, name) is HashSet<string> x && PropertyValues(b, name) is HashSet<string> y && !x.Overlaps(y)) return true;
            if (Forbids(b, name)) return true;
        }
        foreach (string name in rb)
            if (Forbids(a, name)) return true;
        return false;
    }

    private static HashSet<string> TypesOf(JsonElement s)
    {
        if (s.TryGetProperty("type", out var type))
            return type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(x => x.GetString() ?? "").ToHashSet() : [type.GetString() ?? ""];
        if (s.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array)
            return values.EnumerateArray().Select(v => v.ValueKind switch
            {
                JsonValueKind.String => "string",
                JsonValueKind.Number => "number",
                JsonValueKind.True or JsonValueKind.False => "boolean",
                JsonValueKind.Null => "null",
                JsonValueKind.Object => "object",
                _ => "array",
            }).ToHashSet();
        if (Has(s, "properties", "required", "additionalProperties", "patternProperties")) return ["object"];
        if (Has(s, "items", "minItems", "maxItems")) return ["array"];
        if (Has(s, "minLength", "maxLength", "format")) return ["string"];
        return [.. AllTypes];
    }

    private static HashSet<string>? Values(JsonElement s)
    {
        if (s.TryGetProperty("const", out var c)) return [Canonical(c)];
        if (s.TryGetProperty("enum", out var e) && e.ValueKind == JsonValueKind.Array) return e.EnumerateArray().Select(Canonical).ToHashSet();
        return null;
    }

    private static string Canonical(JsonElement v) => JsonSerializer.Serialize(v);

    private static HashSet<string> Required(JsonElement s) =>
        s.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array ? r.EnumerateArray().Select(x => x.GetString() ?? "").ToHashSet() : [];

    /// <summary>The values a declared property may take, when the schema lists them (enum or const, no $ref).</summary>
    private static HashSet<string>? PropertyValues(JsonElement s, string name) =>
        s.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var ps) && ps.ValueKind == JsonValueKind.Object ? Values(ps) : null;

    /// <summary>Whether the schema refuses an object that has this property.</summary>
    private static bool Forbids(JsonElement s, string name) =>
        s.TryGetProperty("additionalProperties", out var extra) && extra.ValueKind == JsonValueKind.False
        && !(s.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out _))
        && PatternSchemas(s, name).Count == 0;

    /// <summary>The patternProperties schemas whose pattern matches the property name (ECMA-262 patterns read by .NET's
    /// regex engine; one it cannot read is refused).</summary>
    private static List<JsonElement> PatternSchemas(JsonElement s, string name)
    {
        var found = new List<JsonElement>();
        if (!s.TryGetProperty("patternProperties", out var patterns)) return found;
        if (patterns.ValueKind != JsonValueKind.Object) throw new JsonSchemaException("'patternProperties' must be an object");
        foreach (var p in patterns.EnumerateObject())
            if (PatternRegex(p.Name, "patternProperties").IsMatch(name)) found.Add(p.Value);
        return found;
    }

    /// <summary>An ECMA-262 pattern as .NET's regex engine reads it (the two agree on the patterns schemas use); one
    /// it cannot read is refused under the keyword.</summary>
    private static Regex PatternRegex(string pattern, string keyword)
    {
        try { return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
        catch (ArgumentException e) { throw new JsonSchemaException($"'{keyword}' pattern '{pattern}' is not a regular expression this engine reads: {e.Message}", keyword); }
    }
}
