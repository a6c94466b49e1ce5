using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Frugal.Inference.Constraints;

/// <summary>
/// allOf (and $ref or anyOf/oneOf next to other constraints) as one schema: the parts' local $refs and nested allOfs
/// are followed, then their keywords are intersected: types, enum/const values, properties (a property named by
/// several parts must meet all their schemas; one that a part's additionalProperties: false leaves out is not
/// written), required (union), length and item bounds (the tighter one), items (both). Keywords that cannot be
/// intersected this way are refused by name; parts that contradict each other yield no schema at all.
/// </summary>
public sealed partial class JsonSchemaGrammar
{
    private string VisitMerged(IEnumerable<JsonElement> parts, string path, string hint) =>
        Merge(parts, path) is JsonElement merged ? Visit(merged, path, hint)
        : throw new JsonSchemaException($"the schemas combined at {path} contradict each other: no value meets them all");

    /// <summary>The schema without one keyword.</summary>
    private static JsonElement Without(JsonElement s, string keyword)
    {
        var o = new JsonObject();
        foreach (var p in s.EnumerateObject())
            if (p.Name != keyword) o[p.Name] = JsonNode.Parse(p.Value.GetRawText());
        return JsonSerializer.SerializeToElement(o);
    }

    /// <summary>The intersection of the parts as one schema without allOf or a top-level $ref; null when none of them
    /// can hold together.</summary>
    private JsonElement? Merge(IEnumerable<JsonElement> parts, string path)
    {
        var flat = new List<JsonElement>();
        foreach (var part in parts)
            if (!Flatten(part, path, flat, 0)) return null;

        var m = new JsonObject();
        HashSet<string>? types = null;
        List<string>? values = null; // enum/const values as raw JSON
        var required = new List<string>();
        var propertyOrder = new List<string>();
        var propertySchemas = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        var items = new List<JsonElement>();
        var extras = new List<JsonElement>(); // additionalProperties schemas of parts without properties
        string? combinator = null;
        var forbidden = new List<string[]>(); // not: {required: [...]}: not all of these at once
        Bound? lo = null, hi = null;
        var outside = new List<JsonElement>(); // not {enum/const}: values left out
        foreach (var s in flat)
        {
            var (l, h) = Bounds(s, path);
            lo = Tighter(lo, l, lower: true);
            hi = Tighter(hi, h, lower: false);
            foreach (var p in s.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "type":
                        var t = p.Value.ValueKind == JsonValueKind.Array ? p.Value.EnumerateArray().Select(x => x.GetString() ?? "").ToHashSet() : [p.Value.GetString() ?? ""];
                        types = types is null ? t : Intersect(types, t);
                        break;
                    case "enum" or "const":
                        var v = p.Name == "const" ? [p.Value.GetRawText()] : p.Value.EnumerateArray().Select(x => x.GetRawText()).ToList();
                        values = values is null ? v : values.Where(v.Contains).ToList();
                        break;
                    case "properties":
                        foreach (var q in p.Value.EnumerateObject())
                        {
                            if (!propertySchemas.TryGetValue(q.Name, out var list)) { propertySchemas[q.Name] = list = []; propertyOrder.Add(q.Name); }
                            list.Add(q.Value);
                        }
                        break;
                    case "required":
                        foreach (var r in p.Value.EnumerateArray())
                            if (r.GetString() is string name && !required.Contains(name)) required.Add(name);
                        break;
                    case "items":
                        items.Add(p.Value);
                        break;
                    case "additionalProperties" or "patternProperties":
                        break;
                    case "not":
                        if (ExcludedValues(p.Value, out var left)) outside.AddRange(left);
                        else if (ExcludedProperty(p.Value) is var (name, notValues))
                        {
                            // The object has the property, outside the values (narrower than "not an object, or...").
                            if (!required.Contains(name)) required.Add(name);
                            if (!propertySchemas.TryGetValue(name, out var list)) { propertySchemas[name] = list = []; propertyOrder.Add(name); }
                            list.Add(NotValues(notValues));
                            types = types is null ? ["object"] : Intersect(types, ["object"]);
                        }
                        else forbidden.Add(NotRequired(p.Value, path)); // below, once every property is known
                        break;
                    case "anyOf" or "oneOf":
                        if (combinator is not null)
                            throw new JsonSchemaException($"allOf of several anyOf/oneOf (at {path}) is not supported", "allOf");
                        combinator = p.Name;
                        m[p.Name] = JsonNode.Parse(p.Value.GetRawText());
                        break;
                    case "minimum" or "maximum" or "exclusiveMinimum" or "exclusiveMaximum":
                        break; // above, each part's bounds read in its own draft's spelling
                    case "minItems" or "minLength" or "minProperties":
                        m[p.Name] = Math.Max(p.Value.GetInt32(), m[p.Name]?.GetValue<int>() ?? 0);
                        break;
                    case "maxItems" or "maxLength" or "maxProperties":
                        m[p.Name] = Math.Min(p.Value.GetInt32(), m[p.Name]?.GetValue<int>() ?? int.MaxValue);
                        break;
                    case "uniqueItems":
                        if (p.Value.ValueKind == JsonValueKind.True) m[p.Name] = true;
                        break;
                    default:
                        if (!Validates(p.Name)) break; // annotations
                        if (m[p.Name] is JsonNode seen && seen.ToJsonString() != JsonNode.Parse(p.Value.GetRawText())!.ToJsonString())
                            throw new JsonSchemaException($"allOf whose schemas set '{p.Name}' differently (at {path}) is not supported", p.Name);
                        m[p.Name] = JsonNode.Parse(p.Value.GetRawText());
                        break;
                }
            }
        }
        if (types is not null)
        {
            if (types.Count == 0) return null;
            m["type"] = new JsonArray([.. types.Select(x => (JsonNode)x!)]);
        }
        if (values is not null && outside.Count > 0)
            values = values.Where(v => !outside.Any(x => JsonElement.DeepEquals(x, JsonDocument.Parse(v).RootElement))).ToList();
        else if (outside.Count > 0) m["not"] = JsonNode.Parse(NotValues(outside).GetProperty("not").GetRawText());
        if (values is not null)
        {
            if (values.Count == 0) return null;
            m["enum"] = new JsonArray([.. values.Select(x => JsonNode.Parse(x))]);
        }
        if (items.Count > 0) m["items"] = All(items);
        WriteBounds(m, lo, hi);

        // Properties: each part that does not name a property still constrains it through its additionalProperties.
        foreach (string name in required)
            if (!propertySchemas.ContainsKey(name)) { propertySchemas[name] = []; propertyOrder.Add(name); }
        bool closed = false;
        var kept = new JsonObject();
        foreach (string name in propertyOrder)
        {
            var schemas = propertySchemas[name];
            bool excluded = false;
            foreach (var s in flat)
            {
                var patterns = PatternSchemas(s, name);
                schemas.AddRange(patterns);
                if (!s.TryGetProperty("additionalProperties", out var extra)) continue;
                bool declares = s.TryGetProperty("properties", out var own) && own.TryGetProperty(name, out _);
                if (declares || patterns.Count > 0) continue;
                if (extra.ValueKind == JsonValueKind.False) excluded = true;
                else if (extra.ValueKind == JsonValueKind.Object) schemas.Add(extra);
            }
            if (excluded)
            {
                if (required.Contains(name)) return null;
                continue;
            }
            kept[name] = schemas.Count == 0 ? new JsonObject() : All(schemas);
        }
        foreach (var s in flat)
            if (s.TryGetProperty("additionalProperties", out var extra))
            {
                if (extra.ValueKind == JsonValueKind.False) closed = true;
                else if (extra.ValueKind == JsonValueKind.Object) extras.Add(extra);
            }
        foreach (string[] names in forbidden)
        {
            if (!names.All(n => kept.ContainsKey(n) || (kept.Count == 0 && !closed))) continue;
            string? drop = names.FirstOrDefault(n => kept.ContainsKey(n) && !required.Contains(n));
            if (drop is not null) kept.Remove(drop);
            else if (names.All(required.Contains)) return null;
        }
        if (forbidden.Count > 0 && kept.Count == 0) closed = true; // no extra keys that could spell the forbidden set
        if (kept.Count > 0) m["properties"] = kept;
        if (required.Count > 0) m["required"] = new JsonArray([.. required.Select(x => (JsonNode)x!)]);
        // Extra keys under patternProperties are not written (the grammar cannot spell the patterns): narrower.
        if (closed || flat.Any(s => s.TryGetProperty("patternProperties", out _))) m["additionalProperties"] = false;
        else if (extras.Count > 0 && kept.Count == 0) m["additionalProperties"] = All(extras);
        return JsonSerializer.SerializeToElement(m);
    }

    /// <summary>Adds the part and what its $ref and allOf bring in; false when a part is the schema false.</summary>
    private bool Flatten(JsonElement s, string path, List<JsonElement> flat, int depth)
    {
        if (depth > MaxDepth) throw new JsonSchemaException($"allOf/$ref at {path} nest deeper than {MaxDepth} levels (a reference cycle through allOf)");
        if (s.ValueKind == JsonValueKind.True) return true;
        if (s.ValueKind == JsonValueKind.False) return false;
        if (s.ValueKind != JsonValueKind.Object) throw new JsonSchemaException($"the schema at {path} must be an object or a boolean, got {s.ValueKind}");
        foreach (var p in s.EnumerateObject())
            if (Refused.Contains(p.Name))
                throw new JsonSchemaException($"JSON Schema keyword '{p.Name}' (at {path}) is not supported", p.Name);
        if (s.TryGetProperty("$ref", out var reference))
        {
            string target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : throw new JsonSchemaException($"'$ref' at {path} must be a string");
            if (!Flatten(Resolve(target, path), target, flat, depth + 1)) return false;
        }
        if (s.TryGetProperty("allOf", out var all))
        {
            if (all.ValueKind != JsonValueKind.Array) throw new JsonSchemaException($"'allOf' at {path} must be a non-empty array");
            int i = 0;
            foreach (var b in all.EnumerateArray())
                if (!Flatten(b, $"{path}/allOf/{i++}", flat, depth + 1)) return false;
        }
        if (s.EnumerateObject().Any(p => p.Name is not ("$ref" or "allOf") && Validates(p.Name)))
            flat.Add(s.TryGetProperty("$ref", out _) || s.TryGetProperty("allOf", out _) ? Without(Without(s, "$ref"), "allOf") : s);
        return true;
    }

    /// <summary>The names of a not: {required: [...]}; any other not is refused.</summary>
    private static string[] NotRequired(JsonElement not, string path)
    {
        if (not.ValueKind == JsonValueKind.Object && not.EnumerateObject().All(p => p.Name == "required" || !Validates(p.Name))
            && not.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array && r.GetArrayLength() > 0)
            return [.. r.EnumerateArray().Select(x => x.GetString() ?? throw new JsonSchemaException($"'required' under 'not' at {path} must list names"))];
        throw new JsonSchemaException($"'not' (at {path}) is supported only as not {{required: [...]}}, not {{enum/const}} and not {{properties: {{p: {{enum/const}}}}}}", "not");
    }

    private static JsonNode All(List<JsonElement> schemas) =>
        schemas.Count == 1 ? JsonNode.Parse(schemas[0].GetRawText())!
        : new JsonObject { ["allOf"] = new JsonArray([.. schemas.Select(x => JsonNode.Parse(x.GetRawText()))]) };

    /// <summary>Type names both sets allow (an integer is a number).</summary>
    private static HashSet<string> Intersect(HashSet<string> a, HashSet<string> b)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (string t in a)
        {
            if (b.Contains(t)) result.Add(t);
            else if (t == "integer" && b.Contains("number")) result.Add("integer");
        }
        foreach (string t in b)
            if (t == "integer" && a.Contains("number")) result.Add("integer");
        return result;
    }

    /// <summary>The enum/const values that meet the schema's other value constraints: numbers its bounds, strings its
    /// pattern and length bounds.</summary>
    private static IEnumerable<JsonElement> Admitted(JsonElement s, IEnumerable<JsonElement> values, string keyword, string path)
    {
        var (lo, hi) = Bounds(s, path);
        var outside = Excluded(s);
        Regex? pattern = s.TryGetProperty("pattern", out var p) && p.ValueKind == JsonValueKind.String ? PatternRegex(p.GetString()!, "pattern") : null;
        int min = Count(s, "minLength", path) ?? 0, max = Count(s, "maxLength", path) ?? int.MaxValue;
        var kept = values.Where(v => !outside.Any(x => JsonElement.DeepEquals(x, v))).Where(v => v.ValueKind switch
        {
            JsonValueKind.Number => v.TryGetDecimal(out decimal d) ? Within(d, lo, hi) : lo is null && hi is null,
            JsonValueKind.String => v.GetString() is string text && (pattern?.IsMatch(text) ?? true)
                && text.EnumerateRunes().Count() is int n && n >= min && n <= max,
            _ => true,
        }).ToList();
        if (kept.Count == 0) throw new JsonSchemaException($"no value of '{keyword}' at {path} meets the schema's other constraints");
        return kept;
    }

    /// <summary>The enum/const values that the schema's type allows (a value of another type would fail the schema).</summary>
    private static IEnumerable<JsonElement> OfType(JsonElement s, IReadOnlyList<JsonElement> values, string keyword, string path)
    {
        if (!s.TryGetProperty("type", out var type)) return values;
        var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(x => x.GetString()).ToHashSet() : [type.GetString()];
        var kept = values.Where(v => v.ValueKind switch
        {
            JsonValueKind.String => types.Contains("string"),
            JsonValueKind.Number => types.Contains("number") || (types.Contains("integer") && v.TryGetInt64(out _)),
            JsonValueKind.True or JsonValueKind.False => types.Contains("boolean"),
            JsonValueKind.Null => types.Contains("null"),
            JsonValueKind.Object => types.Contains("object"),
            JsonValueKind.Array => types.Contains("array"),
            _ => false,
        }).ToList();
        if (kept.Count == 0) throw new JsonSchemaException($"no value of '{keyword}' at {path} has the schema's type");
        return kept;
    }
}
