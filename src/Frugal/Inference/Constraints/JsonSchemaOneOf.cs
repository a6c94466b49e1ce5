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

    /// <summary>Throws unless no value can match two of the branches. Where the branches share a property that
    /// each gives its own values (a discriminator such as "in": "path" / "query") but none requires, the branches are
    /// narrowed to require it (the grammar then always writes it), which makes them disjoint.</summary>
    private List<JsonElement> RequireDisjoint(IReadOnlyList<JsonElement> branches, string path)
    {
        var flat = branches.Select((b, i) => Merge([b], $"{path}/oneOf/{i}")).ToList();
        string? discriminator = null;
        for (int i = 0; i < flat.Count; i++)
            for (int j = i + 1; j < flat.Count; j++)
                if (flat[i] is JsonElement a && flat[j] is JsonElement b && !Disjoint(a, b, 0))
                {
                    discriminator ??= Discriminator(flat);
                    if (discriminator is null || !Disjoint(WithRequired(a, discriminator), WithRequired(b, discriminator), 0))
                        throw new JsonSchemaException($"'oneOf' at {path}: branches {i} and {j} may both match one value, and the grammar cannot rule that out", "oneOf");
                }
        return discriminator is null ? [.. branches] : [.. flat.Select((f, i) => f is JsonElement x ? WithRequired(x, discriminator) : branches[i])];
    }

    /// <summary>A property every branch declares with its own enum/const values, no two branches sharing one, and that
    /// no branch's additionalProperties: false leaves out.</summary>
    private static string? Discriminator(IReadOnlyList<JsonElement?> branches)
    {
        if (branches.Any(b => b is null) || branches.Count < 2) return null;
        var first = branches[0]!.Value;
        if (!first.TryGetProperty("properties", out var props) || props.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in props.EnumerateObject())
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            bool ok = true;
            foreach (var b in branches)
            {
                if (PropertyValues(b!.Value, p.Name) is not HashSet<string> values || values.Overlaps(seen)) { ok = false; break; }
                seen.UnionWith(values);
            }
            if (ok) return p.Name;
        }
        return null;
    }

    private static JsonElement WithRequired(JsonElement s, string name)
    {
        var o = System.Text.Json.Nodes.JsonNode.Parse(s.GetRawText())!.AsObject();
        var required = o["required"] as System.Text.Json.Nodes.JsonArray ?? [];
        if (!required.Any(r => r?.GetValue<string>() == name)) required.Add(name);
        o["required"] = required.DeepClone();
        if (o["type"] is null) o["type"] = "object";
        return JsonSerializer.SerializeToElement(o);
    }

    /// <summary>Whether no value matches both (merged) schemas, as far as this can tell: false when unsure.</summary>
    private bool Disjoint(JsonElement a, JsonElement b, int depth)
    {
        if (depth > 8) return false;
        var ta = TypesOf(a);
        var tb = TypesOf(b);
        if (!ta.Any(t => tb.Contains(t) || (t == "integer" && tb.Contains("number")) || (t == "number" && tb.Contains("integer")))) return true;
        if (Values(a) is HashSet<string> va && Values(b) is HashSet<string> vb && !va.Overlaps(vb)) return true;
        if (ta.SetEquals(["object"]) && tb.SetEquals(["object"]) && (Discriminates(a, b) || Discriminates(b, a))) return true;
        // Arrays: when one needs an item, every item would have to match both items schemas.
        if (ta.SetEquals(["array"]) && tb.SetEquals(["array"]) && (MinItems(a) > 0 || MinItems(b) > 0)
            && a.TryGetProperty("items", out var ia) && b.TryGetProperty("items", out var ib)
            && ia.ValueKind == JsonValueKind.Object && ib.ValueKind == JsonValueKind.Object
            && Merge([ia], "items") is JsonElement xa && Merge([ib], "items") is JsonElement xb && Disjoint(xa, xb, depth + 1)) return true;
        // A schema that is itself anyOf/oneOf: disjoint from the other when each of its branches is.
        foreach (var (s, other) in (ReadOnlySpan<(JsonElement, JsonElement)>)[(a, b), (b, a)])
            foreach (string combinator in (string[])["anyOf", "oneOf"])
                if (s.TryGetProperty(combinator, out var branches) && branches.ValueKind == JsonValueKind.Array)
                {
                    var rest = Without(s, combinator);
                    if (branches.EnumerateArray().All(x => Merge([rest, x], combinator) is not JsonElement m || Disjoint(m, other, depth + 1))) return true;
                }
        return false;
    }

    /// <summary>An object of b has a property that a refuses: one b requires that a's additionalProperties: false
    /// leaves out, or one b requires with enum/const values that a's schema for it refuses.</summary>
    private bool Discriminates(JsonElement a, JsonElement b)
    {
        foreach (string name in Required(b))
        {
            if (Forbids(a, name)) return true;
            if (PropertyValues(b, name) is HashSet<string> values && a.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object
                && p.TryGetProperty(name, out var schema) && values.All(v => Refuses(schema, JsonDocument.Parse(v).RootElement, 0)))
                return true;
        }
        return false;
    }

    /// <summary>Whether the schema surely refuses the value (type, enum/const, through $ref, allOf, anyOf and
    /// oneOf); false when unsure.</summary>
    private bool Refuses(JsonElement s, JsonElement value, int depth)
    {
        if (depth > 16 || s.ValueKind != JsonValueKind.Object) return s.ValueKind == JsonValueKind.False;
        if (s.TryGetProperty("$ref", out var r) && r.ValueKind == JsonValueKind.String && Refuses(Resolve(r.GetString()!, "$ref"), value, depth + 1)) return true;
        if (s.TryGetProperty("allOf", out var all) && all.ValueKind == JsonValueKind.Array && all.EnumerateArray().Any(x => Refuses(x, value, depth + 1))) return true;
        foreach (string combinator in (string[])["anyOf", "oneOf"])
            if (s.TryGetProperty(combinator, out var any) && any.ValueKind == JsonValueKind.Array && any.EnumerateArray().All(x => Refuses(x, value, depth + 1))) return true;
        if (Values(s) is HashSet<string> values && !values.Contains(Canonical(value))) return true;
        if (Excluded(s).Any(x => JsonElement.DeepEquals(x, value))) return true;
        if (s.TryGetProperty("type", out _))
        {
            string kind = value.ValueKind switch
            {
                JsonValueKind.String => "string",
                JsonValueKind.Number => value.TryGetDecimal(out decimal d) && d == Math.Floor(d) ? "integer" : "number", // 1.0 is an integer
                JsonValueKind.True or JsonValueKind.False => "boolean",
                JsonValueKind.Null => "null",
                JsonValueKind.Object => "object",
                _ => "array",
            };
            var types = TypesOf(s);
            if (!types.Contains(kind) && !(kind == "integer" && types.Contains("number"))) return true;
        }
        return false;
    }

    private static int MinItems(JsonElement s) => s.TryGetProperty("minItems", out var m) && m.TryGetInt32(out int n) ? n : 0;

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
        s.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var ps) ? ValuesOf(ps) : null;

    /// <summary>The values a schema lists, through the allOf a merge writes (the intersection of its parts' lists).</summary>
    private static HashSet<string>? ValuesOf(JsonElement s)
    {
        if (s.ValueKind != JsonValueKind.Object) return null;
        var values = Values(s);
        if (s.TryGetProperty("allOf", out var all) && all.ValueKind == JsonValueKind.Array)
            foreach (var part in all.EnumerateArray())
                if (ValuesOf(part) is HashSet<string> v)
                {
                    if (values is null) values = v;
                    else values.IntersectWith(v);
                }
        return values;
    }

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
