using System.Globalization;
using System.Text;

namespace Frugal.Tokenization.ChatTemplates;

/// <summary>The `|` filters of Jinja2 (jinja2/filters.py) that chat templates use, plus transformers' tojson.</summary>
internal static class JinjaFilters
{
    public static object? Apply(string name, object? value, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
    {
        object? Get(int i, string key, object? fallback = null) =>
            i >= 0 && i < args.Count ? args[i] : kwargs.TryGetValue(key, out var v) ? v : fallback;

        switch (name)
        {
            case "trim":
                return JinjaMembers.Strip(AsString(value, name), Get(0, "chars"), true, true);
            case "length" or "count":
                return value switch
                {
                    string s => (long)JinjaValue.EnumerateChars(s).Count,
                    List<object?> l => (long)l.Count,
                    JinjaMap m => (long)m.Count,
                    JinjaUndefined => 0L,
                    _ => throw new JinjaRuntimeException($"'{name}' needs a string, list or dict but got {JinjaValue.TypeName(value)}"),
                };
            case "tojson":
                var indent = Get(0, "indent");
                var separators = Get(-1, "separators") as List<object?>;
                return JinjaJson.Serialize(value,
                    indent switch { null => null, long n => new string(' ', (int)n), string s => s, _ => throw new JinjaRuntimeException("tojson indent must be a number or string") },
                    separators?[0] as string, separators?[1] as string,
                    JinjaValue.IsTruthy(Get(-1, "sort_keys", false)), JinjaValue.IsTruthy(Get(-1, "ensure_ascii", false)));
            case "upper": return AsString(value, name).ToUpperInvariant();
            case "lower": return AsString(value, name).ToLowerInvariant();
            case "title": return Title(AsString(value, name));
            case "capitalize":
                var c = AsString(value, name);
                return c.Length == 0 ? c : c[..1].ToUpperInvariant() + c[1..].ToLowerInvariant();
            case "default" or "d":
                bool boolean = JinjaValue.IsTruthy(Get(1, "boolean", false));
                return value is JinjaUndefined || (boolean && !JinjaValue.IsTruthy(value)) ? Get(0, "default_value", "") : value;
            case "first":
                var firstItems = JinjaValue.Iterate(value);
                return firstItems.Count > 0 ? firstItems[0] : new JinjaUndefined("first item of an empty sequence");
            case "last":
                var lastItems = JinjaValue.Iterate(value);
                return lastItems.Count > 0 ? lastItems[^1] : new JinjaUndefined("last item of an empty sequence");
            case "selectattr" or "rejectattr":
                return SelectAttr(value, args, name == "selectattr");
            case "select" or "reject":
                return JinjaValue.Iterate(value).Where(x => Passes(x, args, 0) == (name == "select")).ToList();
            case "map":
                return Map(value, args, kwargs);
            case "list":
                return value is string str ? JinjaValue.EnumerateChars(str) : JinjaValue.Iterate(value).ToList();
            case "join":
                var attribute = Get(1, "attribute") as string;
                var joined = JinjaValue.Iterate(value).Select(x => attribute is null ? x : Attribute(x, attribute));
                return string.Join(Get(0, "d", "") as string ?? "", joined.Select(JinjaValue.ToStr));
            case "replace":
                var old = Get(0, "old") as string ?? throw new JinjaRuntimeException("replace needs the text to replace");
                var replacement = Get(1, "new") as string ?? throw new JinjaRuntimeException("replace needs the replacement text");
                return ((JinjaCallable)JinjaMembers.GetAttribute(JinjaValue.ToStr(value), "replace")!)(
                    Get(2, "count") is long count ? [old, replacement, count] : [old, replacement], kwargs);
            case "string": return JinjaValue.ToStr(value);
            case "safe": return value;
            case "int":
                return value switch
                {
                    long l => l,
                    double d => (long)Math.Truncate(d),
                    bool b => b ? 1L : 0L,
                    string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) => p,
                    _ => Get(0, "default", 0L),
                };
            case "float":
                return value switch
                {
                    long or double or bool => JinjaValue.ToDouble(value),
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
                    _ => Get(0, "default", 0.0),
                };
            case "abs":
                return value switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), _ => throw new JinjaRuntimeException($"abs needs a number but got {JinjaValue.TypeName(value)}") };
            case "items":
                return value is JinjaMap map ? map.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList()
                    : throw new JinjaRuntimeException($"items needs a dict but got {JinjaValue.TypeName(value)}");
            case "reverse":
                if (value is string rs) return string.Concat(JinjaValue.EnumerateChars(rs).Cast<string>().Reverse());
                var rev = JinjaValue.Iterate(value).ToList();
                rev.Reverse();
                return rev;
            case "unique":
                var seen = new List<object?>();
                foreach (var item in JinjaValue.Iterate(value))
                    if (!seen.Any(x => JinjaValue.AreEqual(x, item))) seen.Add(item);
                return seen;
            case "indent":
                return Indent(AsString(value, name), Get(0, "width", 4L), JinjaValue.IsTruthy(Get(1, "first", false)), JinjaValue.IsTruthy(Get(2, "blank", false)));
            default:
                throw new JinjaRuntimeException($"unsupported construct: filter '{name}'");
        }
    }

    private static string AsString(object? value, string filter) => value switch
    {
        string s => s,
        JinjaUndefined => "",
        _ => JinjaValue.ToStr(value),
    };

    /// <summary>Python's str.title(): the first letter of each run of letters upper-cased, the rest lower-cased.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevCased = false;
        foreach (char ch in s)
        {
            sb.Append(prevCased ? char.ToLowerInvariant(ch) : char.ToUpperInvariant(ch));
            prevCased = char.IsLetter(ch);
        }
        return sb.ToString();
    }

    private static object? Attribute(object? item, string path)
    {
        object? v = item;
        foreach (var part in path.Split('.'))
            v = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var idx) ? JinjaMembers.GetItem(v, idx) : JinjaMembers.GetItem(v, part);
        return v;
    }

    /// <summary>Applies the test named at args[testAt] (with the arguments after it), or truthiness without one.</summary>
    private static bool Passes(object? value, IReadOnlyList<object?> args, int testAt)
    {
        if (args.Count <= testAt)
            return JinjaValue.IsTruthy(value);
        string test = args[testAt] as string ?? throw new JinjaRuntimeException("the test name must be a string");
        return JinjaTests.Apply(test, value, args.Skip(testAt + 1).ToList());
    }

    private static List<object?> SelectAttr(object? value, IReadOnlyList<object?> args, bool keep)
    {
        if (args.Count == 0 || args[0] is not string attr)
            throw new JinjaRuntimeException("selectattr/rejectattr need an attribute name");
        return JinjaValue.Iterate(value).Where(x => Passes(Attribute(x, attr), args, 1) == keep).ToList();
    }

    private static List<object?> Map(object? value, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
    {
        var items = JinjaValue.Iterate(value);
        if (kwargs.TryGetValue("attribute", out var a) && a is string attr)
        {
            kwargs.TryGetValue("default", out var def);
            return items.Select(x => Attribute(x, attr) is var v && v is JinjaUndefined && def is not null ? def : Attribute(x, attr)).ToList();
        }
        if (args.Count == 0 || args[0] is not string filter)
            throw new JinjaRuntimeException("map needs a filter name or attribute=");
        var rest = args.Skip(1).ToList();
        return items.Select(x => Apply(filter, x, rest, new Dictionary<string, object?>())).ToList();
    }

    private static string Indent(string s, object? width, bool first, bool blank)
    {
        string pad = width switch { long n => new string(' ', (int)n), string w => w, _ => "    " };
        var lines = s.Split('\n');
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0) sb.Append('\n');
            bool indent = (i > 0 || first) && (blank || lines[i].Length > 0);
            if (indent) sb.Append(pad);
            sb.Append(lines[i]);
        }
        return sb.ToString();
    }
}
