using System.Text;
using System.Text.Json;

namespace Frugal.Inference.Constraints;

/// <summary>
/// Number ranges: minimum/maximum with exclusiveMinimum/exclusiveMaximum in both spellings (draft 4's booleans next to
/// minimum/maximum, draft 6's numbers). Integers in a range are written as digit grammars (the range split into spans
/// of equal digit count, each into per-digit classes, as regex generators for numeric ranges do); numbers in a range
/// are those integers and, where a fraction cannot cross a bound (a non-negative integer part at least one below the
/// upper bound), up to six fraction digits. No exponents, no "-0", at most 15 digits (so a double holds every value
/// exactly and a validator that reads doubles agrees): narrower than the schema, never wider.
/// </summary>
public sealed partial class JsonSchemaGrammar
{
    private const long MaxMagnitude = 999_999_999_999_999; // 15 digits

    /// <summary>A bound on numbers: the value, and whether the value itself is excluded.</summary>
    private readonly record struct Bound(decimal Value, bool Exclusive);

    private static readonly string[] BoundKeywords = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];

    /// <summary>The lower and upper bounds a schema sets on numbers (null where it sets none).</summary>
    private static (Bound? Lo, Bound? Hi) Bounds(JsonElement s, string path)
    {
        Bound? lo = null, hi = null;
        if (s.ValueKind != JsonValueKind.Object) return (lo, hi);
        if (s.TryGetProperty("minimum", out var min))
            lo = new Bound(Decimal(min, "minimum", path), s.TryGetProperty("exclusiveMinimum", out var ex) && ex.ValueKind == JsonValueKind.True);
        if (s.TryGetProperty("maximum", out var max))
            hi = new Bound(Decimal(max, "maximum", path), s.TryGetProperty("exclusiveMaximum", out var ex) && ex.ValueKind == JsonValueKind.True);
        if (s.TryGetProperty("exclusiveMinimum", out var exMin) && exMin.ValueKind == JsonValueKind.Number)
            lo = Tighter(lo, new Bound(Decimal(exMin, "exclusiveMinimum", path), true), lower: true);
        if (s.TryGetProperty("exclusiveMaximum", out var exMax) && exMax.ValueKind == JsonValueKind.Number)
            hi = Tighter(hi, new Bound(Decimal(exMax, "exclusiveMaximum", path), true), lower: false);
        foreach (string flag in (string[])["exclusiveMinimum", "exclusiveMaximum"])
            if (s.TryGetProperty(flag, out var f) && f.ValueKind is not (JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
                throw new JsonSchemaException($"'{flag}' at {path} must be a number or (draft 4) a boolean");
        return (lo, hi);
    }

    private static decimal Decimal(JsonElement v, string keyword, string path)
    {
        if (v.ValueKind != JsonValueKind.Number) throw new JsonSchemaException($"'{keyword}' at {path} must be a number");
        if (!v.TryGetDecimal(out decimal d)) throw new JsonSchemaException($"'{keyword}' {v.GetRawText()} at {path} is beyond the supported range", keyword);
        return d;
    }

    /// <summary>The stricter of two bounds on the same side.</summary>
    private static Bound? Tighter(Bound? a, Bound? b, bool lower)
    {
        if (a is not Bound x) return b;
        if (b is not Bound y) return a;
        if (x.Value == y.Value) return new Bound(x.Value, x.Exclusive || y.Exclusive);
        return (x.Value > y.Value) == lower ? x : y;
    }

    /// <summary>The bounds as keywords (draft 6 spelling), for a merged schema.</summary>
    private static void WriteBounds(System.Text.Json.Nodes.JsonObject m, Bound? lo, Bound? hi)
    {
        if (lo is Bound l) m[l.Exclusive ? "exclusiveMinimum" : "minimum"] = l.Value;
        if (hi is Bound h) m[h.Exclusive ? "exclusiveMaximum" : "maximum"] = h.Value;
    }

    /// <summary>Whether a number meets the bounds.</summary>
    private static bool Within(decimal v, Bound? lo, Bound? hi) =>
        (lo is not Bound l || (l.Exclusive ? v > l.Value : v >= l.Value)) && (hi is not Bound h || (h.Exclusive ? v < h.Value : v <= h.Value));

    /// <summary>The smallest and largest integers within the bounds the grammar writes (at most 15 digits).</summary>
    private static (long Lo, long Hi) IntegerSpan(Bound? lo, Bound? hi)
    {
        decimal l = lo is Bound a ? (a.Exclusive ? Math.Floor(a.Value) + 1 : Math.Ceiling(a.Value)) : -MaxMagnitude;
        decimal h = hi is Bound b ? (b.Exclusive ? Math.Ceiling(b.Value) - 1 : Math.Floor(b.Value)) : MaxMagnitude;
        return ((long)Math.Clamp(l, -MaxMagnitude - 1, MaxMagnitude + 1), (long)Math.Clamp(h, -MaxMagnitude - 1, MaxMagnitude + 1));
    }

    private string IntegerValue(JsonElement s, string path, string hint)
    {
        var (lo, hi) = Bounds(s, path);
        if (lo is null && hi is null) return "json-int ws";
        var (l, h) = IntegerSpan(lo, hi);
        string digits = IntegerRange(Math.Max(l, -MaxMagnitude), Math.Min(h, MaxMagnitude))
            ?? throw new JsonSchemaException($"no integer of at most 15 digits meets the bounds at {path}", lo is null ? "maximum" : "minimum");
        return Rule(hint, $"{digits} ws");
    }

    private string NumberValue(JsonElement s, string path, string hint)
    {
        var (lo, hi) = Bounds(s, path);
        if (lo is null && hi is null) return "json-number ws";
        var (l, h) = IntegerSpan(lo, hi);
        l = Math.Max(l, -MaxMagnitude);
        h = Math.Min(h, MaxMagnitude);
        string? whole = IntegerRange(l, h);
        // I.F lies in [I, I + 1): inside the bounds when I is an integer inside them and I + 1 is at most the upper one.
        long fracHi = hi is Bound b ? (long)Math.Clamp(Math.Floor(b.Value) - 1, -1, MaxMagnitude) : MaxMagnitude;
        string? fraction = IntegerRange(Math.Max(l, 0), Math.Min(h, fracHi));
        if (whole is null) throw new JsonSchemaException($"no number the grammar writes (an integer part of at most 15 digits) meets the bounds at {path}", lo is null ? "maximum" : "minimum");
        string body = fraction is null ? whole : $"{whole} | {fraction} \".\" [0-9]{{1,6}}";
        return Rule(hint, $"( {body} ) ws");
    }

    /// <summary>A GBNF expression for the integers lo..hi written as JSON writes them (no leading zeros, no "-0");
    /// null when there are none.</summary>
    internal static string? IntegerRange(long lo, long hi)
    {
        if (lo > hi) return null;
        var alts = new List<string>();
        if (lo < 0) alts.Add($"\"-\" {Naturals(Math.Max(1, -Math.Min(hi, -1)), -lo)}");
        if (hi >= 0) alts.Add(Naturals(Math.Max(lo, 0), hi));
        return alts.Count == 1 ? alts[0] : $"( {string.Join(" | ", alts)} )";
    }

    /// <summary>0 &lt;= a &lt;= b: spans of equal digit count, each a per-digit expression.</summary>
    private static string Naturals(long a, long b)
    {
        var alts = new List<string>();
        int da = a.ToString().Length, db = b.ToString().Length;
        for (int n = da; n <= db; n++)
        {
            string lo = n == da ? a.ToString() : "1" + new string('0', n - 1);
            string hi = n == db ? b.ToString() : new string('9', n);
            alts.Add(SameLength(lo, hi));
        }
        return alts.Count == 1 ? alts[0] : $"( {string.Join(" | ", alts)} )";
    }

    /// <summary>The digit strings from lo to hi, both of the same length.</summary>
    private static string SameLength(string lo, string hi)
    {
        if (lo.Length == 0) return "";
        int rest = lo.Length - 1;
        if (lo[0] == hi[0]) return $"\"{lo[0]}\" {SameLength(lo[1..], hi[1..])}".TrimEnd();
        if (lo[1..].All(c => c == '0') && hi[1..].All(c => c == '9')) return $"{DigitClass(lo[0], hi[0])} {Digits(rest)}".TrimEnd();
        var alts = new List<string> { $"\"{lo[0]}\" {SameLength(lo[1..], new string('9', rest))}".TrimEnd() };
        if (lo[0] + 1 <= hi[0] - 1) alts.Add($"{DigitClass((char)(lo[0] + 1), (char)(hi[0] - 1))} {Digits(rest)}".TrimEnd());
        alts.Add($"\"{hi[0]}\" {SameLength(new string('0', rest), hi[1..])}".TrimEnd());
        return $"( {string.Join(" | ", alts)} )";
    }

    private static string DigitClass(char a, char b) => a == b ? $"\"{a}\"" : $"[{a}-{b}]";

    private static string Digits(int n) => n switch { 0 => "", 1 => "[0-9]", _ => $"[0-9]{{{n}}}" };
}
