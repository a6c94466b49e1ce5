using System.Globalization;
using System.Text;

namespace Frugal.Inference.Constraints;

/// <summary>
/// A string's <c>pattern</c> (ECMA-262 syntax) as grammar rules over the string's JSON text, for the regular part of
/// the language: literals and escapes, character classes (ranges, negation, \d \w \s and their complements, '.'),
/// groups (capturing, non-capturing, named), alternation and the quantifiers * + ? {n} {n,} {n,m} (lazy or not: the
/// same strings). Anchors are honoured at the ends of a top-level alternative. Each alternative is written so the
/// whole string matches it, which also satisfies an unanchored pattern (a validator searches for a match): narrower,
/// never wider. Backreferences, lookaround and word boundaries are not regular (or not by a grammar of the string's
/// own characters) and are refused by name, as are characters a JSON string writes only as escapes the grammar leaves
/// out (control characters other than \n \r \t \b \f, and characters outside the Basic Multilingual Plane).
/// </summary>
internal sealed class JsonSchemaPattern
{
    private const int MaxRepeat = 1000;
    private const int MaxChar = 0xFFFF;
    private readonly string _p;
    private readonly string _path;
    private int _i;
    private int _depth;

    private JsonSchemaPattern(string pattern, string path) { _p = pattern; _path = path; }

    /// <summary>A GBNF expression (possibly empty) for the JSON text inside the quotes of strings that match.</summary>
    /// <exception cref="JsonSchemaException">a construct that is not regular or not supported, named.</exception>
    public static string ToGbnf(string pattern, string path)
    {
        var parser = new JsonSchemaPattern(pattern, path);
        string expr = parser.Alternation();
        if (parser._i < pattern.Length) throw parser.Refuse($"an unmatched ')' at offset {parser._i}");
        return expr;
    }

    private JsonSchemaException Refuse(string what) =>
        new($"'pattern' '{_p}' (at {_path}): {what} is not supported", "pattern");

    private string Alternation()
    {
        var alts = new List<string> { Sequence() };
        while (_i < _p.Length && _p[_i] == '|')
        {
            _i++;
            alts.Add(Sequence());
        }
        if (alts.Count == 1) return alts[0];
        return $"( {string.Join(" | ", alts.Select(a => a.Length == 0 ? "\"\"" : a))} )";
    }

    private string Sequence()
    {
        var parts = new List<string>();
        int start = _i;
        while (_i < _p.Length && _p[_i] != '|' && _p[_i] != ')')
        {
            char c = _p[_i];
            if (c == '^')
            {
                if (_depth > 0 || _i != start) throw Refuse("'^' other than at the start of the pattern or of a top-level alternative");
                _i++;
                continue;
            }
            if (c == '$')
            {
                _i++;
                if (_depth > 0 || (_i < _p.Length && _p[_i] != '|')) throw Refuse("'$' other than at the end of the pattern or of a top-level alternative");
                continue;
            }
            string atom = Atom();
            string quantified = Quantifier(atom);
            if (quantified.Length > 0) parts.Add(quantified);
        }
        return string.Join(' ', parts);
    }

    private string Atom()
    {
        char c = _p[_i++];
        switch (c)
        {
            case '(':
                if (_i < _p.Length && _p[_i] == '?')
                {
                    if (_i + 1 < _p.Length && _p[_i + 1] == ':') _i += 2;
                    else if (_i + 2 < _p.Length && _p[_i + 1] == '<' && _p[_i + 2] is not ('=' or '!'))
                    {
                        int close = _p.IndexOf('>', _i);
                        if (close < 0) throw Refuse("an unterminated group name");
                        _i = close + 1;
                    }
                    else throw Refuse("lookaround '(?" + (_i + 1 < _p.Length ? _p[_i + 1].ToString() : "") + "'");
                }
                _depth++;
                string inner = Alternation();
                _depth--;
                if (_i >= _p.Length || _p[_i] != ')') throw Refuse("an unclosed group");
                _i++;
                return inner.Length == 0 ? "" : $"( {inner} )";
            case '[': return Emit(Class());
            case '.': return Emit(Complement(Set('\n', '\r', '\u2028', '\u2029')));
            case '\\': return Escape(inClass: false) is var (set, literal) && set is not null ? Emit(set) : Emit(Set(literal));
            case '*' or '+' or '?': throw Refuse($"a quantifier '{c}' with nothing before it");
            case '{' when QuantifierAhead(_i - 1): throw Refuse("a quantifier '{' with nothing before it");
            default:
                if (char.IsSurrogate(c)) throw Refuse("a character outside the Basic Multilingual Plane");
                return Emit(Set(c));
        }
    }

    /// <summary>An escape after '\': a class (\d, \w, \s and complements) or one character.</summary>
    private (List<(int Lo, int Hi)>? Set, char Literal) Escape(bool inClass)
    {
        if (_i >= _p.Length) throw Refuse("a trailing '\\'");
        char e = _p[_i++];
        switch (e)
        {
            case 'd': return (Digit(), '\0');
            case 'D': return (Complement(Digit()), '\0');
            case 'w': return (Word(), '\0');
            case 'W': return (Complement(Word()), '\0');
            case 's': return (Space(), '\0');
            case 'S': return (Complement(Space()), '\0');
            case 'n': return (null, '\n');
            case 'r': return (null, '\r');
            case 't': return (null, '\t');
            case 'v': return (null, '\v');
            case 'f': return (null, '\f');
            case '0' when _i >= _p.Length || !char.IsAsciiDigit(_p[_i]): return (null, '\0');
            case 'b' when inClass: return (null, '\b');
            case 'x': return (null, (char)Hex(2));
            case 'u': return (null, (char)Hex(4));
            case 'b' or 'B': throw Refuse($"the word boundary '\\{e}'");
            case 'k' or (>= '1' and <= '9'): throw Refuse($"the backreference '\\{e}'");
            case 'p' or 'P': throw Refuse($"the Unicode property class '\\{e}'");
            case 'c': throw Refuse("the control escape '\\c'");
            default:
                if (char.IsAsciiLetterOrDigit(e)) throw Refuse($"the escape '\\{e}'");
                return (null, e); // an escaped punctuation character is itself
        }
    }

    private int Hex(int digits)
    {
        if (_i + digits > _p.Length || !int.TryParse(_p.AsSpan(_i, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int v))
            throw Refuse("a malformed hexadecimal escape");
        _i += digits;
        if (v is >= 0xD800 and <= 0xDFFF) throw Refuse("a surrogate escape");
        return v;
    }

    private List<(int, int)> Class()
    {
        bool negated = _i < _p.Length && _p[_i] == '^';
        if (negated) _i++;
        var set = new List<(int, int)>();
        while (true)
        {
            if (_i >= _p.Length) throw Refuse("an unclosed character class");
            char c = _p[_i];
            if (c == ']') { _i++; break; }
            (int Lo, int Hi)? single = null;
            _i++;
            if (c == '\\')
            {
                var (cls, lit) = Escape(inClass: true);
                if (cls is not null) { set.AddRange(cls); continue; }
                single = (lit, lit);
            }
            else
            {
                if (char.IsSurrogate(c)) throw Refuse("a character outside the Basic Multilingual Plane");
                single = (c, c);
            }
            // A range a-b (a '-' before ']' is itself).
            if (_i + 1 < _p.Length && _p[_i] == '-' && _p[_i + 1] != ']')
            {
                _i++;
                char d = _p[_i++];
                int hi = d;
                if (d == '\\')
                {
                    var (cls, lit) = Escape(inClass: true);
                    if (cls is not null) throw Refuse("a class escape as a range's end");
                    hi = lit;
                }
                if (hi < single.Value.Lo) throw Refuse("a range out of order");
                set.Add((single.Value.Lo, hi));
            }
            else set.Add(single.Value);
        }
        return negated ? Complement(set) : Normalize(set);
    }

    private bool QuantifierAhead(int at)
    {
        if (at >= _p.Length || _p[at] != '{') return false;
        int close = _p.IndexOf('}', at);
        if (close < 0) return false;
        string body = _p[(at + 1)..close];
        string[] parts = body.Split(',');
        return parts.Length is 1 or 2 && parts[0].Length > 0 && parts[0].All(char.IsAsciiDigit) && (parts.Length == 1 || parts[1].All(char.IsAsciiDigit));
    }

    private string Quantifier(string atom)
    {
        if (_i >= _p.Length) return atom;
        char q = _p[_i];
        string result;
        if (q is '*' or '+' or '?')
        {
            _i++;
            result = atom.Length == 0 ? "" : $"{Group(atom)}{q}";
        }
        else if (QuantifierAhead(_i))
        {
            int close = _p.IndexOf('}', _i);
            string[] parts = _p[(_i + 1)..close].Split(',');
            _i = close + 1;
            int min = Bounded(parts[0]);
            int? max = parts.Length == 1 ? min : parts[1].Length == 0 ? null : Bounded(parts[1]);
            if (max < min) throw Refuse("a quantifier {n,m} with m < n");
            result = atom.Length == 0 || max == 0 ? "" : max == min ? $"{Group(atom)}{{{min}}}" : $"{Group(atom)}{{{min},{max}}}";
        }
        else return atom;
        if (_i < _p.Length && _p[_i] == '?') _i++; // lazy: the same strings
        if (_i < _p.Length && (_p[_i] is '*' or '+' or '?' || QuantifierAhead(_i))) throw Refuse("a quantifier after a quantifier");
        return result;
    }

    private int Bounded(string digits)
    {
        if (!int.TryParse(digits, out int n) || n > MaxRepeat) throw Refuse($"a repeat count above {MaxRepeat}");
        return n;
    }

    private static string Group(string atom) => atom.StartsWith('(') && atom.EndsWith(')') || !atom.Contains(' ') ? atom : $"( {atom} )";

    private static List<(int, int)> Set(params char[] chars) => Normalize([.. chars.Select(c => ((int)c, (int)c))]);
    private static List<(int, int)> Digit() => [('0', '9')];
    private static List<(int, int)> Word() => Normalize([('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')]);
    private static List<(int, int)> Space() => Normalize([('\t', '\r'), (' ', ' '), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
        (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]);

    /// <summary>Sorted, merged ranges.</summary>
    private static List<(int, int)> Normalize(List<(int Lo, int Hi)> set)
    {
        var sorted = set.OrderBy(r => r.Lo).ToList();
        var merged = new List<(int, int)>();
        foreach (var (lo, hi) in sorted)
        {
            if (merged.Count > 0 && lo <= merged[^1].Item2 + 1) merged[^1] = (merged[^1].Item1, Math.Max(merged[^1].Item2, hi));
            else merged.Add((lo, hi));
        }
        return merged;
    }

    /// <summary>The characters up to U+FFFF not in the set.</summary>
    private static List<(int, int)> Complement(List<(int Lo, int Hi)> set)
    {
        var result = new List<(int, int)>();
        int next = 0;
        foreach (var (lo, hi) in Normalize(set))
        {
            if (lo > next) result.Add((next, lo - 1));
            next = Math.Max(next, hi + 1);
        }
        if (next <= MaxChar) result.Add((next, MaxChar));
        return result;
    }

    /// <summary>The set as grammar over JSON text: plain characters as one class, quote, backslash and the control
    /// characters JSON has short escapes for as those escapes; other control characters, DEL and surrogates are left
    /// out (a validator would read them, but a grammar that writes them is not worth it).</summary>
    private string Emit(List<(int Lo, int Hi)> set)
    {
        var plain = new List<(int Lo, int Hi)>();
        var alts = new List<string>();
        foreach (var (lo, hi) in set)
        {
            for (int c = lo; c <= Math.Min(hi, 0x7F); c++)
            {
                string? escape = c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", '\b' => "\\b", '\f' => "\\f", _ => null };
                if (escape is not null) alts.Add(JsonSchemaGrammar.GbnfLiteral(escape));
            }
            foreach (var (a, b) in (ReadOnlySpan<(int, int)>)[(0x20, 0x21), (0x23, 0x5B), (0x5D, 0x7E), (0x80, 0xD7FF), (0xE000, MaxChar)])
            {
                int x = Math.Max(lo, a), y = Math.Min(hi, b);
                if (x <= y) plain.Add((x, y));
            }
        }
        if (plain.Count == 1 && plain[0].Lo == plain[0].Hi && alts.Count == 0)
            return JsonSchemaGrammar.GbnfLiteral(((char)plain[0].Lo).ToString());
        if (plain.Count > 0)
        {
            var sb = new StringBuilder("[");
            foreach (var (lo, hi) in plain)
            {
                sb.Append(ClassChar(lo));
                if (hi > lo) sb.Append('-').Append(ClassChar(hi));
            }
            alts.Insert(0, sb.Append(']').ToString());
        }
        if (alts.Count == 0) throw Refuse("a character class of only control characters");
        return alts.Count == 1 ? alts[0] : $"( {string.Join(" | ", alts)} )";
    }

    private static string ClassChar(int c) => char.IsAsciiLetterOrDigit((char)c) ? ((char)c).ToString() : $"\\u{c:X4}";
}
