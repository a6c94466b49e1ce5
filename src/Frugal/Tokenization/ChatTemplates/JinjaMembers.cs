namespace Frugal.Tokenization.ChatTemplates;

/// <summary>Attribute and item access, slicing, `in`, and the Python str/dict methods templates call.</summary>
internal static class JinjaMembers
{
    public static object? GetAttribute(object? target, string name)
    {
        switch (target)
        {
            case JinjaMap map when map.TryGetValue(name, out var v):
                return v;
            case JinjaNamespace:
                return new JinjaUndefined($"namespace attribute '{name}'");
            case JinjaMap map:
                return (object?)DictMethod(map, name) ?? new JinjaUndefined($"key '{name}'");
            case string s:
                return (object?)StringMethod(s, name) ?? new JinjaUndefined($"string attribute '{name}'");
            default:
                return new JinjaUndefined($"attribute '{name}'");
        }
    }

    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case JinjaMap map when key is string k:
                return map.TryGetValue(k, out var v) ? v : GetAttribute(map, k);
            case List<object?> list when key is long or bool:
                long i = (long)JinjaValue.ToDouble(key);
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : new JinjaUndefined($"index {key}");
            case string s when key is long or bool:
                var chars = JinjaValue.EnumerateChars(s);
                long j = (long)JinjaValue.ToDouble(key);
                if (j < 0) j += chars.Count;
                return j >= 0 && j < chars.Count ? chars[(int)j] : new JinjaUndefined($"index {key}");
            case JinjaUndefined:
                return target;
            default:
                return key is string name ? GetAttribute(target, name) : new JinjaUndefined($"item {JinjaValue.Repr(key)}");
        }
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        List<object?> items = target switch
        {
            List<object?> l => l,
            string s => JinjaValue.EnumerateChars(s),
            JinjaUndefined => [],
            _ => throw new JinjaRuntimeException($"cannot slice a {JinjaValue.TypeName(target)}"),
        };
        long st = step is null ? 1 : (long)JinjaValue.ToDouble(step);
        if (st == 0) throw new JinjaRuntimeException("slice step cannot be zero");
        int n = items.Count;
        // Python's slice.indices().
        long Bound(object? v, long defaultValue, long lower, long upper)
        {
            if (v is null) return defaultValue;
            long x = (long)JinjaValue.ToDouble(v);
            if (x < 0) x += n;
            return Math.Clamp(x, lower, upper);
        }
        long a, b;
        if (st > 0)
        {
            a = Bound(start, 0, 0, n);
            b = Bound(stop, n, 0, n);
        }
        else
        {
            a = Bound(start, n - 1, -1, n - 1);
            b = Bound(stop, -1, -1, n - 1);
            if (stop is not null && (long)JinjaValue.ToDouble(stop) + n < -1) b = -1;
        }
        var result = new List<object?>();
        for (long i = a; st > 0 ? i < b : i > b; i += st) result.Add(items[(int)i]);
        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string sub => s.Contains(sub, StringComparison.Ordinal),
        string => throw new JinjaRuntimeException($"'in <string>' needs a string on the left, not {JinjaValue.TypeName(item)}"),
        List<object?> list => list.Any(x => JinjaValue.AreEqual(x, item)),
        JinjaMap map => item is string k && map.ContainsKey(k),
        JinjaUndefined or null => false,
        _ => throw new JinjaRuntimeException($"cannot test membership in a {JinjaValue.TypeName(container)}"),
    };

    private static JinjaCallable? DictMethod(JinjaMap map, string name) => name switch
    {
        "items" => (_, _) => map.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList(),
        "keys" => (_, _) => map.Keys.Cast<object?>().ToList(),
        "values" => (_, _) => map.Select(p => p.Value).ToList(),
        "get" => (args, _) => args.Count > 0 && args[0] is string k && map.TryGetValue(k, out var v) ? v : args.Count > 1 ? args[1] : null,
        _ => null,
    };

    private static JinjaCallable? StringMethod(string s, string name) => name switch
    {
        "strip" => (args, _) => Strip(s, Arg(args, 0), true, true),
        "lstrip" => (args, _) => Strip(s, Arg(args, 0), true, false),
        "rstrip" => (args, _) => Strip(s, Arg(args, 0), false, true),
        "split" => (args, kw) => Split(s, Arg(args, 0) ?? Kw(kw, "sep"), (long?)(Arg(args, 1) ?? Kw(kw, "maxsplit")) ?? -1),
        "startswith" => (args, _) => AnyOf(Arg(args, 0), p => s.StartsWith(p, StringComparison.Ordinal)),
        "endswith" => (args, _) => AnyOf(Arg(args, 0), p => s.EndsWith(p, StringComparison.Ordinal)),
        "upper" => (_, _) => s.ToUpperInvariant(),
        "lower" => (_, _) => s.ToLowerInvariant(),
        "title" => (_, _) => JinjaFilters.Title(s),
        "capitalize" => (_, _) => s.Length == 0 ? s : s[..1].ToUpperInvariant() + s[1..].ToLowerInvariant(),
        "replace" => (args, _) => Replace(s, Str(Arg(args, 0)), Str(Arg(args, 1)), (long?)Arg(args, 2) ?? -1),
        "find" => (args, _) => (long)s.IndexOf(Str(Arg(args, 0)), StringComparison.Ordinal),
        "count" => (args, _) => CountOf(s, Str(Arg(args, 0))),
        "join" => (args, _) => string.Join(s, JinjaValue.Iterate(Arg(args, 0)).Select(JinjaValue.ToStr)),
        "splitlines" => (_, _) => s.Split('\n').Select(l => (object?)l.TrimEnd('\r')).ToList(),
        "isdigit" => (_, _) => s.Length > 0 && s.All(char.IsDigit),
        _ => null,
    };

    private static object? Arg(IReadOnlyList<object?> args, int i) => i < args.Count ? args[i] : null;

    private static object? Kw(IReadOnlyDictionary<string, object?> kw, string name) => kw.TryGetValue(name, out var v) ? v : null;

    private static string Str(object? v) => v as string ?? throw new JinjaRuntimeException($"expected a string argument but got {JinjaValue.TypeName(v)}");

    private static bool AnyOf(object? prefixes, Func<string, bool> test) => prefixes switch
    {
        string p => test(p),
        List<object?> list => list.Any(p => test(Str(p))),
        _ => throw new JinjaRuntimeException($"expected a string or tuple of strings but got {JinjaValue.TypeName(prefixes)}"),
    };

    /// <summary>Python's str.strip([chars]): whitespace when chars is None.</summary>
    public static string Strip(string s, object? chars, bool left, bool right)
    {
        Func<char, bool> strip = chars switch
        {
            null => char.IsWhiteSpace,
            string set => set.Contains,
            _ => throw new JinjaRuntimeException($"strip expects a string of characters but got {JinjaValue.TypeName(chars)}"),
        };
        int a = 0, b = s.Length;
        if (left) while (a < b && strip(s[a])) a++;
        if (right) while (b > a && strip(s[b - 1])) b--;
        return s[a..b];
    }

    private static List<object?> Split(string s, object? sep, long maxSplit)
    {
        if (sep is null)
        {
            var parts = s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (maxSplit < 0 || parts.Length <= maxSplit + 1)
                return parts.Cast<object?>().ToList();
            // Python keeps the remainder (from the (maxsplit+1)-th word on) as written.
            var result = new List<object?>();
            int pos = 0;
            for (int k = 0; k < maxSplit; k++)
            {
                while (char.IsWhiteSpace(s[pos])) pos++;
                int start = pos;
                while (!char.IsWhiteSpace(s[pos])) pos++;
                result.Add(s[start..pos]);
            }
            result.Add(s[pos..].TrimStart());
            return result;
        }
        string separator = Str(sep);
        if (separator.Length == 0) throw new JinjaRuntimeException("split: empty separator");
        var pieces = maxSplit < 0 ? s.Split(separator) : s.Split(separator, (int)maxSplit + 1);
        return pieces.Cast<object?>().ToList();
    }

    private static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? string.Concat(s.Select(c => replacement + c)) + replacement : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new System.Text.StringBuilder();
        int pos = 0;
        for (long k = 0; k < count; k++)
        {
            int at = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0 || old.Length == 0) break;
            sb.Append(s, pos, at - pos).Append(replacement);
            pos = at + old.Length;
        }
        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static long CountOf(string s, string sub)
    {
        if (sub.Length == 0) return s.Length + 1;
        long n = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
