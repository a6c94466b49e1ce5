using System.Text;
using System.Text.Json;

namespace Frugal.Inference.Constraints;

/// <summary>
/// Compiles a JSON Schema into GBNF, in the spirit of llama.cpp's json-schema-to-grammar: objects (properties in
/// schema order, optional ones may be left out, required ones may not; min/maxProperties; additionalProperties only for
/// map-like objects without declared properties), arrays (items, minItems, maxItems), enum and const, the primitive
/// types, number ranges, string lengths, patterns and formats, anyOf, oneOf (when its branches are disjoint), allOf,
/// not (in the forms real schemas use), $ref inside the schema or into a known document (the bundled meta-schemas, a
/// caller's local schemas). Anything else is refused with a <see cref="JsonSchemaException"/> naming the keyword: the
/// grammar never accepts what the schema refuses. Where the schema allows more than the grammar produces (extra
/// properties next to declared ones), the grammar is the narrower one: every output still validates.
/// </summary>
public sealed partial class JsonSchemaGrammar
{
    private const int MaxCount = 1000;
    private const int MaxDepth = 100;
    private int _depth;

    private static readonly HashSet<string> Supported =
    [
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const",
        "anyOf", "oneOf", "allOf", "$ref", "minLength", "maxLength", "format", "uniqueItems", "patternProperties", "not",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "additionalItems", "minProperties", "maxProperties",
        "pattern",
    ];

    /// <summary>Validation keywords of JSON Schema (drafts 4 to 2020-12) this compiler does not implement: a schema
    /// that uses one is refused by name. Every other keyword is an annotation (title, x-*, vendor keywords such as
    /// tsAdditionalProperties), which validators ignore, so this compiler ignores it too.</summary>
    private static readonly HashSet<string> Refused =
    [
        "multipleOf", "if", "then", "else", "dependencies", "dependentRequired", "dependentSchemas", "propertyNames",
        "contains", "minContains", "maxContains", "prefixItems",
        "unevaluatedProperties", "unevaluatedItems", "$dynamicRef", "$recursiveRef",
    ];

    /// <summary>A keyword that constrains values (supported or not), as opposed to an annotation.</summary>
    private static bool Validates(string keyword) => Supported.Contains(keyword) || Refused.Contains(keyword);

    /// <summary>Literals as a model would write them: quotes as \", non-ASCII as itself (not \u escapes).</summary>
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private JsonElement _root; // the schema local $refs (#/...) resolve against
    private readonly JsonSchemaDocuments _documents; // what other $refs (http://.../schema#/...) resolve against
    private readonly List<string> _rules = [];
    private readonly HashSet<string> _names = [];
    private readonly Dictionary<string, string> _refs = new(StringComparer.Ordinal);

    private JsonSchemaGrammar(JsonElement root, JsonSchemaDocuments? documents)
    {
        _root = root;
        _documents = documents ?? JsonSchemaDocuments.MetaSchemas;
    }

    /// <summary>GBNF text whose root rule matches exactly the JSON documents this generator produces for the schema.</summary>
    /// <param name="schema">the schema.</param>
    /// <param name="documents">what references outside the schema resolve against; the bundled meta-schemas when
    /// null.</param>
    /// <exception cref="JsonSchemaException">an unsupported keyword or a malformed schema.</exception>
    public static string ToGbnf(JsonElement schema, JsonSchemaDocuments? documents = null)
    {
        var g = new JsonSchemaGrammar(schema, documents);
        g._names.Add("root");
        string value = g.Visit(schema, "#", "root");
        g._rules.Insert(0, $"root ::= {value}");
        g._rules.AddRange([JsonGrammar.AnyValue, JsonGrammar.StringChar, JsonGrammar.Integer, JsonGrammar.Number, JsonGrammar.Whitespace]);
        return string.Join('\n', g._rules) + "\n";
    }

    /// <summary>
    /// GBNF for several schemas in one grammar (a tool call per function): each schema's value expression is handed to
    /// <paramref name="rootRules"/>, which writes the root rule (and any rules of its own) around them; the JSON rules
    /// are shared. Each schema's $refs resolve inside that schema.
    /// </summary>
    /// <exception cref="JsonSchemaException">an unsupported keyword or a malformed schema; the message names the
    /// schema's index.</exception>
    internal static string ToGbnf(IReadOnlyList<JsonElement> schemas, Func<IReadOnlyList<string>, string> rootRules)
    {
        var g = new JsonSchemaGrammar(default, null);
        g._names.Add("root");
        var values = new List<string>(schemas.Count);
        for (int i = 0; i < schemas.Count; i++)
        {
            g._root = schemas[i];
            g._refs.Clear();
            try { values.Add(g.Visit(schemas[i], "#", $"args{i}")); }
            catch (JsonSchemaException e) { throw new JsonSchemaException($"schema {i}: {e.Message}", e.Keyword); }
        }
        g._rules.Insert(0, rootRules(values));
        g._rules.AddRange([JsonGrammar.AnyValue, JsonGrammar.StringChar, JsonGrammar.Integer, JsonGrammar.Number, JsonGrammar.Whitespace]);
        return string.Join('\n', g._rules) + "\n";
    }

    /// <summary>The compiled grammar of a schema.</summary>
    public static GbnfGrammar Compile(JsonElement schema, JsonSchemaDocuments? documents = null) => GbnfGrammar.Parse(ToGbnf(schema, documents));

    /// <summary>Returns a GBNF expression matching the schema's values, each followed by whitespace.</summary>
    private string Visit(JsonElement s, string path, string hint)
    {
        if (++_depth > MaxDepth) throw new JsonSchemaException($"the schema nests deeper than {MaxDepth} levels (at {path})");
        try { return VisitSchema(s, path, hint); }
        finally { _depth--; }
    }

    private string VisitSchema(JsonElement s, string path, string hint)
    {
        if (s.ValueKind == JsonValueKind.True) return "json-value";
        if (s.ValueKind == JsonValueKind.False) throw new JsonSchemaException($"the schema at {path} is false: it accepts no value");
        if (s.ValueKind != JsonValueKind.Object) throw new JsonSchemaException($"the schema at {path} must be an object or a boolean, got {s.ValueKind}");

        foreach (var p in s.EnumerateObject())
            if (Refused.Contains(p.Name))
                throw new JsonSchemaException($"JSON Schema keyword '{p.Name}' (at {path}) is not supported", p.Name);
        // additionalItems constrains only what follows a tuple of items (items as an array); next to one schema for
        // every item, or no items, it has no effect.
        if (s.TryGetProperty("additionalItems", out _) && s.TryGetProperty("items", out var tuple) && tuple.ValueKind == JsonValueKind.Array)
            throw new JsonSchemaException($"'items' as an array (a tuple) with 'additionalItems' (at {path}) is not supported", "additionalItems");

        // not: {required: [...]} (an object must not have all those properties): the merge leaves one out.
        if (s.TryGetProperty("not", out var not) && !ExcludedValues(not, out _)) return VisitMerged([s], path, hint);
        if (s.TryGetProperty("$ref", out var reference))
        {
            if (!s.EnumerateObject().Any(p => p.Name != "$ref" && Validates(p.Name))) return Ref(reference, path);
            // $ref next to other constraints: both apply (draft 2019+; older drafts ignore the siblings, so
            // honouring them is the narrower reading, which validates under either).
            return VisitMerged([s], path, hint);
        }
        if (s.TryGetProperty("allOf", out var all))
        {
            if (all.ValueKind != JsonValueKind.Array || all.GetArrayLength() == 0)
                throw new JsonSchemaException($"'allOf' at {path} must be a non-empty array");
            if (all.GetArrayLength() == 1 && !s.EnumerateObject().Any(p => p.Name != "allOf" && Validates(p.Name)))
                return Visit(all[0], $"{path}/allOf/0", hint);
            return VisitMerged([s], path, hint);
        }
        if (s.TryGetProperty("const", out var constant)) return Rule(hint, string.Join(" | ", Admitted(s, OfType(s, [constant], "const", path), "const", path).Select(Literal)));
        if (s.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
                throw new JsonSchemaException($"'enum' at {path} must be a non-empty array");
            return Rule(hint, string.Join(" | ", Admitted(s, OfType(s, [.. values.EnumerateArray()], "enum", path), "enum", path).Select(Literal)));
        }
        foreach (string combinator in (string[])["anyOf", "oneOf"])
            if (s.TryGetProperty(combinator, out var branches))
            {
                if (branches.ValueKind != JsonValueKind.Array || branches.GetArrayLength() == 0)
                    throw new JsonSchemaException($"'{combinator}' at {path} must be a non-empty array");
                if (combinator == "anyOf" && s.TryGetProperty("oneOf", out _))
                    throw new JsonSchemaException($"'anyOf' next to 'oneOf' (at {path}) is not supported", "oneOf");
                bool alone = !s.EnumerateObject().Any(p => p.Name != combinator && Validates(p.Name));
                // Constraints next to the combinator apply to every branch: each branch is merged with them, and a
                // branch they contradict (a type neither allows) is left out.
                var effective = branches.EnumerateArray()
                    .Select((b, i) => alone ? b : Merge([Without(s, combinator), b], $"{path}/{combinator}/{i}"))
                    .Select((b, i) => (Index: i, Schema: b)).Where(x => x.Schema is not null).Select(x => (x.Index, Schema: x.Schema!.Value)).ToList();
                if (combinator == "oneOf")
                {
                    var disjoint = RequireDisjoint([.. effective.Select(x => x.Schema)], path);
                    effective = [.. effective.Select((x, k) => (x.Index, Schema: disjoint[k]))];
                }
                var alts = effective.Select(x => Visit(x.Schema, $"{path}/{combinator}/{x.Index}", $"{hint}-{x.Index}")).ToList();
                if (alts.Count == 0) throw new JsonSchemaException($"no branch of '{combinator}' at {path} fits the constraints next to it");
                return Rule(hint, string.Join(" | ", alts));
            }

        if (s.TryGetProperty("type", out var type))
        {
            if (type.ValueKind == JsonValueKind.String) return Typed(s, type.GetString()!, path, hint);
            if (type.ValueKind == JsonValueKind.Array && type.GetArrayLength() > 0)
                return Rule(hint, string.Join(" | ", type.EnumerateArray().Select(t =>
                    t.ValueKind == JsonValueKind.String ? Typed(s, t.GetString()!, path, $"{hint}-{t.GetString()}")
                    : throw new JsonSchemaException($"'type' at {path} must list type names"))));
            throw new JsonSchemaException($"'type' at {path} must be a type name or a non-empty array of them");
        }
        if (Has(s, "properties", "required", "additionalProperties")) return Typed(s, "object", path, hint);
        if (Has(s, "items", "minItems", "maxItems")) return Typed(s, "array", path, hint);
        if (Has(s, "minLength", "maxLength", "format", "pattern")) return Typed(s, "string", path, hint);
        if (Has(s, BoundKeywords)) return Typed(s, "number", path, hint);
        if (Excluded(s).Count > 0) throw new JsonSchemaException($"'not' {{enum}} without a type (at {path}) is not supported", "not");
        return "json-value";
    }

    private string Typed(JsonElement s, string type, string path, string hint)
    {
        switch (type)
        {
            case "object": RequireNoExcluded(s, JsonValueKind.Object, type, path); return Object(s, path, hint);
            case "array": RequireNoExcluded(s, JsonValueKind.Array, type, path); return Array(s, path, hint);
            case "string": return String(s, path, hint);
            case "integer": RequireNoExcluded(s, JsonValueKind.Number, type, path); return IntegerValue(s, path, hint);
            case "number": RequireNoExcluded(s, JsonValueKind.Number, type, path); return NumberValue(s, path, hint);
            case "boolean":
                var excluded = Excluded(s).Select(v => v.ValueKind).ToHashSet();
                var allowed = ((string[])["true", "false"]).Where(b => !excluded.Contains(b == "true" ? JsonValueKind.True : JsonValueKind.False)).ToList();
                if (allowed.Count == 0) throw new JsonSchemaException($"'not' at {path} excludes both booleans: no value fits");
                return $"({string.Join(" | ", allowed.Select(b => $"\"{b}\""))}) ws";
            case "null": RequireNoExcluded(s, JsonValueKind.Null, type, path); return "\"null\" ws";
            default: throw new JsonSchemaException($"unknown type '{type}' at {path}", "type");
        }
    }

    private string Object(JsonElement s, string path, string hint)
    {
        var props = new List<(string Name, JsonElement Schema)>();
        if (s.TryGetProperty("properties", out var properties))
        {
            if (properties.ValueKind != JsonValueKind.Object) throw new JsonSchemaException($"'properties' at {path} must be an object");
            foreach (var p in properties.EnumerateObject()) props.Add((p.Name, p.Value));
        }
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (s.TryGetProperty("required", out var req))
        {
            if (req.ValueKind != JsonValueKind.Array) throw new JsonSchemaException($"'required' at {path} must be an array of names");
            foreach (var r in req.EnumerateArray())
            {
                string name = r.ValueKind == JsonValueKind.String ? r.GetString()! : throw new JsonSchemaException($"'required' at {path} must list names");
                required.Add(name);
                if (!props.Any(p => p.Name == name)) props.Add((name, default)); // required but undeclared: any value
            }
        }
        int minProps = Count(s, "minProperties", path) ?? 0;
        int? maxProps = Count(s, "maxProperties", path);
        if (maxProps < minProps) throw new JsonSchemaException($"maxProperties {maxProps} < minProperties {minProps} at {path}: no object fits");
        if (props.Count == 0 && s.TryGetProperty("patternProperties", out _))
        {
            // Extra keys fall under patterns the grammar cannot spell: write the object without them (narrower).
            PatternSchemas(s, "");
            if (minProps > 0) throw new JsonSchemaException($"'minProperties' on an object whose keys only patternProperties allow (at {path}) is not supported", "minProperties");
            return "\"{\" ws \"}\" ws";
        }
        if (props.Count == 0)
        {
            // A map: any keys, values of additionalProperties (any JSON when absent or true).
            string value = "json-value";
            if (s.TryGetProperty("additionalProperties", out var extra))
            {
                if (extra.ValueKind == JsonValueKind.False)
                    return minProps == 0 ? "\"{\" ws \"}\" ws" : throw new JsonSchemaException($"minProperties {minProps} at {path} on an object that allows no properties: no object fits");
                value = Visit(extra, $"{path}/additionalProperties", $"{hint}-value");
            }
            // The grammar cannot keep keys apart, and a repeated key counts once: at least one entry is one property,
            // at least two are not necessarily two.
            if (minProps > 1) throw new JsonSchemaException($"'minProperties' {minProps} on a map (at {path}) is not supported: the grammar cannot keep its keys distinct", "minProperties");
            if (maxProps == 0) return "\"{\" ws \"}\" ws";
            string kv = Rule($"{hint}-kv", $"json-string \":\" ws {value}");
            string more = maxProps is int m ? $"(\",\" ws {kv}){{0,{m - 1}}}" : $"(\",\" ws {kv})*";
            return Rule(hint, minProps == 0 ? $"\"{{\" ws ( {kv} {more} )? \"}}\" ws" : $"\"{{\" ws {kv} {more} \"}}\" ws");
        }

        var kvs = props.Select((p, i) =>
        {
            // A declared property whose name a pattern matches must meet the pattern's schema too.
            var patterns = PatternSchemas(s, p.Name);
            var schema = patterns.Count == 0 ? p.Schema
                : Merge(p.Schema.ValueKind == JsonValueKind.Undefined ? patterns : [p.Schema, .. patterns], $"{path}/properties/{p.Name}")
                    ?? throw new JsonSchemaException($"property '{p.Name}' at {path} meets no value of its patternProperties");
            string value = schema.ValueKind == JsonValueKind.Undefined ? "json-value" : Visit(schema, $"{path}/properties/{p.Name}", $"{hint}-{p.Name}");
            return Rule($"{hint}-{p.Name}-kv", $"{Literal(JsonSerializer.SerializeToElement(p.Name))} \":\" ws {value}");
        }).ToList();
        // Tail(i, n): the properties from i on, n of them written so far (counted up to what min/maxProperties need;
        // n > 0 puts a comma before the next one); null when no choice from here meets minProperties.
        int cap = Math.Max(Math.Max(minProps, 1), maxProps ?? 0);
        var tails = new Dictionary<(int, int), string?>();
        string? Tail(int i, int n)
        {
            if (i == props.Count) return n >= minProps ? "" : null;
            if (tails.TryGetValue((i, n), out var done)) return done;
            var alts = new List<string>();
            if (maxProps is not int most || n < most)
                if (Tail(i + 1, Math.Min(n + 1, cap)) is string rest)
                    alts.Add($"{(n == 0 ? "" : "\",\" ws ")}{kvs[i]} {rest}".TrimEnd());
            if (!required.Contains(props[i].Name) && Tail(i + 1, n) is string skip) alts.Add(skip);
            string? body = alts.Count == 0 ? null
                : alts.Contains("") ? (alts.Count == 1 ? "" : $"( {string.Join(" | ", alts.Where(a => a.Length > 0))} )?")
                : string.Join(" | ", alts);
            string? name = body is null || body.Length == 0 ? body : Rule($"{hint}-rest{i}-{n}", body);
            tails[(i, n)] = name;
            return name;
        }
        string all = Tail(0, 0) ?? throw new JsonSchemaException($"no object at {path} meets minProperties {minProps} and maxProperties {maxProps} with its required and declared properties");
        return Rule(hint, $"\"{{\" ws {all} \"}}\" ws");
    }

    private string Array(JsonElement s, string path, string hint)
    {
        string item = s.TryGetProperty("items", out var items) ? Visit(items, $"{path}/items", $"{hint}-item") : "json-value";
        int min = Count(s, "minItems", path) ?? 0;
        int? max = Count(s, "maxItems", path);
        if (s.TryGetProperty("uniqueItems", out var unique) && unique.ValueKind == JsonValueKind.True)
        {
            // A grammar cannot keep items apart; an array of at most one item is unique (narrower, still valid).
            if (min > 1) throw new JsonSchemaException($"'uniqueItems: true' with minItems {min} (at {path}) is not supported", "uniqueItems");
            max = Math.Min(max ?? 1, 1);
        }
        if (max < min) throw new JsonSchemaException($"maxItems {max} < minItems {min} at {path}: no array fits");
        if (max == 0) return "\"[\" ws \"]\" ws";
        string more = max is int m ? $"(\",\" ws {item}){{{Math.Max(0, min - 1)},{m - 1}}}" : $"(\",\" ws {item}){{{Math.Max(0, min - 1)},}}";
        string body = min == 0 ? $"( {item} {more} )?" : $"{item} {more}";
        return Rule(hint, $"\"[\" ws {body} \"]\" ws");
    }

    private string String(JsonElement s, string path, string hint)
    {
        var excluded = Excluded(s).Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList();
        if (excluded.Count > 0)
        {
            foreach (string other in (string[])["format", "pattern", "minLength", "maxLength"])
                if (s.TryGetProperty(other, out _)) throw new JsonSchemaException($"'not' next to '{other}' (at {path}) is not supported", "not");
            return StringOutside(excluded, path, hint);
        }
        if (s.TryGetProperty("pattern", out var pattern))
        {
            if (pattern.ValueKind != JsonValueKind.String) throw new JsonSchemaException($"'pattern' at {path} must be a string");
            foreach (string other in (string[])["format", "minLength", "maxLength"])
                if (s.TryGetProperty(other, out _)) throw new JsonSchemaException($"'{other}' next to 'pattern' (at {path}) is not supported", other);
            PatternRegex(pattern.GetString()!, "pattern"); // a pattern .NET cannot read is refused, as validators would
            return Rule(hint, $"\"\\\"\" {JsonSchemaPattern.ToGbnf(pattern.GetString()!, path)} \"\\\"\" ws");
        }
        if (s.TryGetProperty("format", out var format))
        {
            if (format.ValueKind != JsonValueKind.String) throw new JsonSchemaException($"'format' at {path} must be a string");
            foreach (string bound in (string[])["minLength", "maxLength"])
                if (s.TryGetProperty(bound, out _)) throw new JsonSchemaException($"'{bound}' next to 'format' (at {path}) is not supported", bound);
            string inner = format.GetString() switch
            {
                "date" => Date,
                "time" => Time,
                "date-time" => $"{Date} \"T\" {Time}",
                "uuid" => "[0-9a-f]{8} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{12}",
                "uri" or "uri-reference" or "iri" or "iri-reference" => UrlText,
                "uri-template" => $"{UrlText} (\"{{\" [a-z_]{{1,12}} \"}}\")?",
                "email" or "idn-email" => $"[a-z] [a-z0-9]{{0,15}} (\".\" [a-z] [a-z0-9]{{0,15}})? \"@\" {HostText}",
                "hostname" or "idn-hostname" => HostText,
                "ipv4" => "[0-9] \".\" [0-9] \".\" [0-9] \".\" [0-9]",
                // A word is a regular expression (that matches itself).
                "regex" => "[A-Za-z0-9_]{0,20}",
                var f => throw new JsonSchemaException($"string format '{f}' (at {path}) is not supported", "format"),
            };
            return Rule(hint, $"\"\\\"\" {inner} \"\\\"\" ws");
        }
        int min = Count(s, "minLength", path) ?? 0;
        int? max = Count(s, "maxLength", path);
        if (max < min) throw new JsonSchemaException($"maxLength {max} < minLength {min} at {path}: no string fits");
        string chars = max is int m ? $"json-char{{{min},{m}}}" : $"json-char{{{min},}}";
        return Rule(hint, $"\"\\\"\" {chars} \"\\\"\" ws");
    }

    // Days per month as the calendar has them (February stops at 28: leap years are not worth a grammar), so a
    // validator that checks real dates accepts every one.
    private const string Date = "[1-9] [0-9]{3} \"-\" ((\"01\" | \"03\" | \"05\" | \"07\" | \"08\" | \"10\" | \"12\") \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01])"
        + " | (\"04\" | \"06\" | \"09\" | \"11\") \"-\" (\"0\" [1-9] | [12] [0-9] | \"30\") | \"02\" \"-\" (\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]))";
    private const string Time = "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,6})? (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";

    // Narrower than the RFCs on purpose: plain http(s) URLs and dotted lower-case host names, which every validator
    // accepts.
    private const string HostText = "[a-z] [a-z0-9]{0,15} (\".\" [a-z] [a-z0-9]{0,15}){0,2} \".\" [a-z]{2,6}";
    private const string UrlText = "(\"http\" | \"https\") \"://\" " + HostText + " (\"/\" [A-Za-z0-9_~-]{1,20}){0,6} \"/\"?";

    private static int? Count(JsonElement s, string keyword, string path)
    {
        if (!s.TryGetProperty(keyword, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n < 0)
            throw new JsonSchemaException($"'{keyword}' at {path} must be a non-negative integer");
        if (n > MaxCount) throw new JsonSchemaException($"'{keyword}' {n} at {path} is above the supported {MaxCount}", keyword);
        return n;
    }

    private string Ref(JsonElement reference, string path)
    {
        string target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : throw new JsonSchemaException($"'$ref' at {path} must be a string");
        if (_refs.TryGetValue(target, out var known)) return known;
        var node = Resolve(target, path);
        string name = Name("ref-" + target.Split('/')[^1]);
        _refs[target] = name;
        int slot = _rules.Count;
        _rules.Add("");
        _rules[slot] = $"{name} ::= {Visit(node, target, name + "-body")}";
        return name;
    }

    /// <summary>The schema a reference points at: a local one (#/json/pointer) in the schema, another (uri#/pointer)
    /// in a known document (a bundled meta-schema or a local file).</summary>
    private JsonElement Resolve(string target, string path)
    {
        int hash = target.IndexOf('#');
        var node = _root;
        if (hash != 0 && !_documents.TryGet(target, out node))
            throw new JsonSchemaException($"'$ref' to '{target}' (at {path}): only references inside the schema (#/...) or into a bundled meta-schema (drafts 4, 6, 7) or a known local schema are resolved", "$ref");
        foreach (string raw in (hash < 0 ? "" : target[(hash + 1)..]).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string part = Uri.UnescapeDataString(raw).Replace("~1", "/").Replace("~0", "~");
            if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(part, out node))
                throw new JsonSchemaException($"'$ref' '{target}' (at {path}) points at nothing in the schema");
        }
        return node;
    }

    private static bool Has(JsonElement s, params string[] keywords) => keywords.Any(k => s.TryGetProperty(k, out _));

    /// <summary>A new rule named after <paramref name="hint"/>; returns its name.</summary>
    private string Rule(string hint, string body)
    {
        string name = Name(hint);
        _rules.Add($"{name} ::= {body}");
        return name;
    }

    private string Name(string hint)
    {
        var sb = new StringBuilder();
        foreach (char c in hint) sb.Append(char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '-');
        string baseName = sb.Length > 0 ? sb.ToString() : "r";
        string name = baseName;
        for (int i = 1; !_names.Add(name); i++) name = $"{baseName}{i}";
        return name;
    }

    /// <summary>A JSON value as a GBNF literal followed by whitespace.</summary>
    private static string Literal(JsonElement value) => GbnfLiteral(JsonSerializer.Serialize(value, Compact)) + " ws";

    /// <summary>Text as a GBNF string literal (quotes, backslashes and control characters escaped).</summary>
    internal static string GbnfLiteral(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }
}
