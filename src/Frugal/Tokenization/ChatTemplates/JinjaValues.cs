using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace Frugal.Tokenization.ChatTemplates;

// Template values are plain CLR objects: null (none), JinjaUndefined, bool, long, double, string,
// List<object?> (lists and tuples), JinjaMap (dicts, in insertion order), JinjaNamespace and JinjaCallable.

/// <summary>A name or key that does not exist: falsy, prints as nothing, and is what `is defined` tests for.</summary>
internal sealed class JinjaUndefined(string description)
{
    public static readonly JinjaUndefined Value = new("undefined value");

    public string Description { get; } = description;

    public override string ToString() => "";
}

/// <summary>A dict in insertion order, like Python's dict.</summary>
internal class JinjaMap : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public int Count => _order.Count;

    public IEnumerable<string> Keys => _order;

    public bool ContainsKey(string key) => _values.ContainsKey(key);

    public bool TryGetValue(string key, out object? value) => _values.TryGetValue(key, out value);

    public object? this[string key]
    {
        get => _values[key];
        set
        {
            if (!_values.ContainsKey(key)) _order.Add(key);
            _values[key] = value;
        }
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() =>
        _order.Select(k => new KeyValuePair<string, object?>(k, _values[k])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>namespace(): the one mutable object templates have, used to carry state out of loops.</summary>
internal sealed class JinjaNamespace : JinjaMap;

internal delegate object? JinjaCallable(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs);

internal static class JinjaValue
{
    /// <summary>Turns caller data (records from <see cref="ChatMessage"/>, dictionaries, lists, JSON) into template values.</summary>
    public static object? FromClr(object? value) => value switch
    {
        null => null,
        JinjaUndefined or JinjaMap or JinjaCallable or string or bool or long or double => value,
        int or short or byte or sbyte or ushort or uint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        ulong u => (long)u,
        float f => (double)f,
        decimal m => (double)m,
        char c => c.ToString(),
        JsonElement e => FromJson(e),
        IChatTemplateValue v => FromClr(v.ToTemplateValue()),
        IDictionary<string, object?> d => MapOf(d),
        IReadOnlyDictionary<string, object?> d => MapOf(d),
        IDictionary d => MapOf(d.Keys.Cast<object>().Select(k => new KeyValuePair<string, object?>(Convert.ToString(k, CultureInfo.InvariantCulture)!, d[k]))),
        IEnumerable e => e.Cast<object?>().Select(FromClr).ToList(),
        _ => throw new ArgumentException($"a value of type {value.GetType().Name} cannot be passed to a chat template; use strings, numbers, booleans, lists, dictionaries or JSON"),
    };

    private static JinjaMap MapOf(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var map = new JinjaMap();
        foreach (var (k, v) in pairs) map[k] = FromClr(v);
        return map;
    }

    private static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => MapOf(e.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, p.Value))),
        JsonValueKind.Array => e.EnumerateArray().Select(x => FromJson(x)).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out long l) ? (object)l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    public static bool IsTruthy(object? v) => v switch
    {
        null or JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        JinjaNamespace => true,
        JinjaMap m => m.Count > 0,
        _ => true,
    };

    public static string TypeName(object? v) => v switch
    {
        null => "none",
        JinjaUndefined => "undefined",
        bool => "boolean",
        long => "integer",
        double => "float",
        string => "string",
        List<object?> => "list",
        JinjaNamespace => "namespace",
        JinjaMap => "dict",
        JinjaCallable => "function",
        _ => v.GetType().Name,
    };

    /// <summary>What {{ v }} prints: Python's str(v).</summary>
    public static string ToStr(object? v) => v switch
    {
        string s => s,
        JinjaUndefined => "",
        _ => Repr(v),
    };

    /// <summary>Python's repr(v), used for values inside printed lists and dicts.</summary>
    public static string Repr(object? v)
    {
        switch (v)
        {
            case null: return "None";
            case JinjaUndefined: return "";
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FloatRepr(d);
            case string s: return "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "'";
            case List<object?> list: return "[" + string.Join(", ", list.Select(Repr)) + "]";
            case JinjaMap map: return "{" + string.Join(", ", map.Select(p => Repr(p.Key) + ": " + Repr(p.Value))) + "}";
            default: return v.ToString() ?? "";
        }
    }

    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        string r = d.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E', StringComparison.Ordinal))
        {
            // Python writes 1e-05 / 1e+20 where .NET writes 1E-05 / 1E+20.
            r = r.Replace("E", "e", StringComparison.Ordinal);
            return r;
        }
        return r.Contains('.', StringComparison.Ordinal) ? r : r + ".0";
    }

    /// <summary>Python ==: numbers compare by value across int/float/bool, containers compare deeply.</summary>
    public static bool AreEqual(object? a, object? b)
    {
        if (a is JinjaUndefined && b is JinjaUndefined) return true;
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a) == ToDouble(b);
        return (a, b) switch
        {
            (null, null) => true,
            (string x, string y) => x == y,
            (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => AreEqual(p.First, p.Second)),
            (JinjaMap x, JinjaMap y) => x.Count == y.Count && x.All(p => y.TryGetValue(p.Key, out var o) && AreEqual(p.Value, o)),
            _ => ReferenceEquals(a, b),
        };
    }

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaRuntimeException($"expected a number but got {TypeName(v)}"),
    };

    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a).CompareTo(ToDouble(b));
        if (a is string x && b is string y) return string.CompareOrdinal(x, y);
        throw new JinjaRuntimeException($"cannot order {TypeName(a)} and {TypeName(b)}");
    }

    /// <summary>What a for loop walks: list items, dict keys, or the characters of a string.</summary>
    public static List<object?> Iterate(object? v) => v switch
    {
        List<object?> l => l,
        JinjaMap m => m.Keys.Cast<object?>().ToList(),
        string s => EnumerateChars(s),
        JinjaUndefined => [],
        _ => throw new JinjaRuntimeException($"{TypeName(v)} is not iterable"),
    };

    /// <summary>Python iterates code points; a surrogate pair is one character.</summary>
    public static List<object?> EnumerateChars(string s)
    {
        var result = new List<object?>();
        for (int i = 0; i < s.Length;)
        {
            int n = char.IsSurrogatePair(s, i) ? 2 : 1;
            result.Add(s.Substring(i, n));
            i += n;
        }
        return result;
    }
}

/// <summary>Lets a caller's type describe itself to templates (e.g. a chat message as a role/content dict).</summary>
public interface IChatTemplateValue
{
    /// <summary>A string, number, bool, list or string-keyed dictionary.</summary>
    object? ToTemplateValue();
}

/// <summary>A render-time error inside a builtin; the evaluator adds the template position.</summary>
internal sealed class JinjaRuntimeException(string message) : Exception(message);

/// <summary>raise_exception(message) called by the template; the evaluator adds the position.</summary>
internal sealed class JinjaRaiseException(string message) : Exception(message);
