using System.Globalization;
using System.Text;

namespace Frugal.Tokenization.ChatTemplates;

/// <summary>
/// The tojson filter as transformers defines it: Python's json.dumps(value, ensure_ascii=False, indent=indent,
/// separators=separators, sort_keys=sort_keys). Tool schemas printed by templates must match byte for byte.
/// </summary>
internal static class JinjaJson
{
    public static string Serialize(object? value, string? indent, string? itemSeparator, string? keySeparator, bool sortKeys, bool ensureAscii)
    {
        itemSeparator ??= indent is null ? ", " : ",";
        keySeparator ??= ": ";
        var sb = new StringBuilder();
        Write(sb, value, indent, itemSeparator, keySeparator, sortKeys, ensureAscii, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, string? indent, string itemSep, string keySep, bool sortKeys, bool ascii, int depth)
    {
        switch (value)
        {
            case null or JinjaUndefined: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : JinjaValue.FloatRepr(d));
                break;
            case string s: WriteString(sb, s, ascii); break;
            case List<object?> list:
                WriteContainer(sb, '[', ']', list, indent, itemSep, depth, (item, d) => Write(sb, item, indent, itemSep, keySep, sortKeys, ascii, d));
                break;
            case JinjaMap map:
                var pairs = sortKeys ? map.OrderBy(p => p.Key, StringComparer.Ordinal).ToList() : map.ToList();
                WriteContainer(sb, '{', '}', pairs, indent, itemSep, depth, (p, d) =>
                {
                    WriteString(sb, p.Key, ascii);
                    sb.Append(keySep);
                    Write(sb, p.Value, indent, itemSep, keySep, sortKeys, ascii, d);
                });
                break;
            default:
                throw new JinjaRuntimeException($"tojson cannot serialize a {JinjaValue.TypeName(value)}");
        }
    }

    private static void WriteContainer<T>(StringBuilder sb, char open, char close, IReadOnlyList<T> items, string? indent, string itemSep, int depth, Action<T, int> writeItem)
    {
        sb.Append(open);
        if (items.Count > 0)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0) sb.Append(itemSep);
                if (indent is not null) NewLine(sb, indent, depth + 1);
                writeItem(items[i], depth + 1);
            }
            if (indent is not null) NewLine(sb, indent, depth);
        }
        sb.Append(close);
    }

    private static void NewLine(StringBuilder sb, string indent, int depth)
    {
        sb.Append('\n');
        for (int i = 0; i < depth; i++) sb.Append(indent);
    }

    private static void WriteString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c > 0x7e))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
