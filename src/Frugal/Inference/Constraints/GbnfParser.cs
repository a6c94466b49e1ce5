using System.Globalization;
using System.Text;

namespace Frugal.Inference.Constraints;

/// <summary>
/// Reads llama.cpp's GBNF: <c>name ::= alternatives</c> rules, <c>|</c>, sequences, <c>( )</c> groups, <c>* + ?</c>
/// and <c>{m}</c> <c>{m,}</c> <c>{m,n}</c> repetition, "literals" and [classes] with escapes (\n \r \t \\ \" \[ \] \xHH
/// \uHHHH \UHHHHHHHH), [^negated] classes, <c>.</c> (any character) and # comments. Repetitions and groups become
/// generated rules, as llama.cpp's parser rewrites them. Errors name the line and column.
/// </summary>
internal sealed class GbnfParser
{
    /// <summary>Bound on {m,n} counts, so a typo cannot ask for a grammar of millions of rules.</summary>
    private const int MaxRepetition = 1000;

    /// <summary>Bound on ( ) nesting: the parser recurses per level.</summary>
    private const int MaxNesting = 200;

    private readonly string _text;
    private int _pos;
    private int _depth;
    private readonly Dictionary<string, int> _ruleIds = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> _firstUse = new(); // rule id -> position of its first reference

    private GbnfParser(string text) => _text = text;

    public List<string> Names { get; } = [];

    /// <summary>Per rule: its alternatives, each a sequence of elements; null while only referenced.</summary>
    public List<List<List<GbnfElement>>?> Rules { get; } = [];

    public List<CodepointSet> Sets { get; } = [];

    public static GbnfParser Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var p = new GbnfParser(text);
        p.ParseRules();
        return p;
    }

    private void ParseRules()
    {
        SkipSpace(newlines: true);
        while (_pos < _text.Length)
        {
            int start = _pos;
            string name = ParseName();
            SkipSpace(newlines: false);
            if (!At("::=")) throw Error($"expected '::=' after rule name '{name}'");
            _pos += 3;
            SkipSpace(newlines: true);
            int id = RuleId(name);
            if (Rules[id] is not null) throw Error($"rule '{name}' is defined twice", start);
            Rules[id] = ParseAlternatives(nested: false);
            if (_pos < _text.Length && _text[_pos] != '\n' && _text[_pos] != '\r')
                throw Error($"unexpected '{_text[_pos]}' in rule '{name}'");
            SkipSpace(newlines: true);
        }
        for (int i = 0; i < Rules.Count; i++)
            if (Rules[i] is null)
                throw Error($"rule '{Names[i]}' is used but never defined", _firstUse.GetValueOrDefault(i));
        if (!_ruleIds.ContainsKey("root")) throw new GrammarFormatException("the grammar has no 'root' rule (the start symbol)");
    }

    private int RuleId(string name)
    {
        if (_ruleIds.TryGetValue(name, out int id)) return id;
        id = Names.Count;
        Names.Add(name);
        Rules.Add(null);
        _ruleIds[name] = id;
        return id;
    }

    private int NewRule(string baseName, List<List<GbnfElement>> alternatives)
    {
        int n = Names.Count;
        string name = $"{baseName}-{n}";
        int id = RuleId(name);
        Rules[id] = alternatives;
        return id;
    }

    private List<List<GbnfElement>> ParseAlternatives(bool nested)
    {
        var alts = new List<List<GbnfElement>> { ParseSequence(nested) };
        while (_pos < _text.Length && _text[_pos] == '|')
        {
            _pos++;
            SkipSpace(newlines: true);
            alts.Add(ParseSequence(nested));
        }
        return alts;
    }

    private List<GbnfElement> ParseSequence(bool nested)
    {
        var seq = new List<GbnfElement>();
        int lastStart = -1; // where the last symbol (what a postfix operator repeats) begins in seq
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c == '"')
            {
                lastStart = seq.Count;
                int open = _pos++;
                while (true)
                {
                    if (_pos >= _text.Length || _text[_pos] == '\n') throw Error("unterminated string literal", open);
                    if (_text[_pos] == '"') { _pos++; break; }
                    int cp = ReadChar();
                    seq.Add(Chars([(cp, cp)], false));
                }
            }
            else if (c == '[')
            {
                lastStart = seq.Count;
                int open = _pos++;
                bool negated = _pos < _text.Length && _text[_pos] == '^';
                if (negated) _pos++;
                var ranges = new List<(int, int)>();
                while (true)
                {
                    if (_pos >= _text.Length || _text[_pos] == '\n') throw Error("unterminated character class", open);
                    if (_text[_pos] == ']') { _pos++; break; }
                    int lo = ReadChar();
                    int hi = lo;
                    if (_pos + 1 < _text.Length && _text[_pos] == '-' && _text[_pos + 1] != ']')
                    {
                        _pos++;
                        hi = ReadChar();
                        if (hi < lo) throw Error($"character range is reversed (U+{lo:X4} > U+{hi:X4})");
                    }
                    ranges.Add((lo, hi));
                }
                seq.Add(Chars(ranges, negated));
            }
            else if (c == '.')
            {
                lastStart = seq.Count;
                _pos++;
                seq.Add(Chars([(0, CodepointSet.MaxCodepoint)], false));
            }
            else if (c == '(')
            {
                lastStart = seq.Count;
                if (++_depth > MaxNesting) throw Error($"groups nest deeper than {MaxNesting}");
                _pos++;
                SkipSpace(newlines: true);
                var alts = ParseAlternatives(nested: true);
                if (_pos >= _text.Length || _text[_pos] != ')') throw Error("expected ')' to close the group");
                _pos++;
                _depth--;
                seq.Add(new GbnfElement(GbnfElementKind.Rule, NewRule("group", alts)));
            }
            else if (IsNameChar(c))
            {
                lastStart = seq.Count;
                int at = _pos;
                string name = ParseName();
                int id = RuleId(name);
                _firstUse.TryAdd(id, at);
                seq.Add(new GbnfElement(GbnfElementKind.Rule, id));
            }
            else if (c is '*' or '+' or '?' or '{')
            {
                if (lastStart < 0) throw Error($"'{c}' has nothing before it to repeat");
                var (min, max) = ParseRepetition();
                var body = seq.GetRange(lastStart, seq.Count - lastStart);
                seq.RemoveRange(lastStart, seq.Count - lastStart);
                seq.AddRange(Repeat(body, min, max));
                lastStart = -1;
            }
            else break;
            SkipSpace(newlines: nested);
        }
        return seq;
    }

    private (int Min, int Max) ParseRepetition()
    {
        int open = _pos;
        char c = _text[_pos++];
        if (c == '*') return (0, -1);
        if (c == '+') return (1, -1);
        if (c == '?') return (0, 1);
        SkipSpace(newlines: false);
        int min = ReadInt();
        int max = min;
        SkipSpace(newlines: false);
        if (_pos < _text.Length && _text[_pos] == ',')
        {
            _pos++;
            SkipSpace(newlines: false);
            max = _pos < _text.Length && char.IsAsciiDigit(_text[_pos]) ? ReadInt() : -1;
            SkipSpace(newlines: false);
        }
        if (_pos >= _text.Length || _text[_pos] != '}') throw Error("expected '}' to close the repetition");
        _pos++;
        if (max >= 0 && max < min) throw Error($"repetition {{{min},{max}}} has max < min", open);
        return (min, max);
    }

    private int ReadInt()
    {
        int start = _pos;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        if (start == _pos) throw Error("expected a number in the repetition");
        if (!int.TryParse(_text.AsSpan(start, _pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n > MaxRepetition)
            throw Error($"repetition count must be at most {MaxRepetition}", start);
        return n;
    }

    /// <summary>body{min,max} as elements: body min times, then max-min nested optionals (or a starred rule).</summary>
    private List<GbnfElement> Repeat(List<GbnfElement> body, int min, int max)
    {
        if (body.Count > 1) body = [new GbnfElement(GbnfElementKind.Rule, NewRule("rep", [body]))]; // copies stay one element each
        var result = new List<GbnfElement>();
        for (int i = 0; i < min; i++) result.AddRange(body);
        if (max < 0)
        {
            // star ::= body star | ε
            int star = NewRule("star", []);
            Rules[star] = [[.. body, new GbnfElement(GbnfElementKind.Rule, star)], []];
            result.Add(new GbnfElement(GbnfElementKind.Rule, star));
        }
        else if (max > min)
        {
            // opt_k ::= body opt_{k-1} | ε, right-nested so each later copy needs the earlier one
            int? inner = null;
            for (int k = 0; k < max - min; k++)
            {
                var alt = new List<GbnfElement>(body);
                if (inner is int r) alt.Add(new GbnfElement(GbnfElementKind.Rule, r));
                inner = NewRule("opt", [alt, []]);
            }
            result.Add(new GbnfElement(GbnfElementKind.Rule, inner!.Value));
        }
        return result;
    }

    private GbnfElement Chars(IEnumerable<(int, int)> ranges, bool negated)
    {
        Sets.Add(CodepointSet.Of(ranges, negated));
        return new GbnfElement(GbnfElementKind.Chars, Sets.Count - 1);
    }

    /// <summary>One character of a literal or class, escapes decoded, as a code point.</summary>
    private int ReadChar()
    {
        char c = _text[_pos];
        if (c != '\\')
        {
            if (char.IsHighSurrogate(c) && _pos + 1 < _text.Length && char.IsLowSurrogate(_text[_pos + 1]))
            {
                int cp = char.ConvertToUtf32(c, _text[_pos + 1]);
                _pos += 2;
                return cp;
            }
            _pos++;
            return c;
        }
        if (_pos + 1 >= _text.Length) throw Error("escape '\\' at the end of the grammar");
        char e = _text[_pos + 1];
        _pos += 2;
        switch (e)
        {
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case '\\': case '"': case '[': case ']': case '-': case '^': case '/': case '\'': return e;
            case 'x': return ReadHex(2);
            case 'u': return ReadHex(4);
            case 'U': return ReadHex(8);
            default: throw Error($"unknown escape '\\{e}'", _pos - 2);
        }
    }

    private int ReadHex(int digits)
    {
        int start = _pos;
        if (_pos + digits > _text.Length
            || !int.TryParse(_text.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v)
            || v < 0 || v > CodepointSet.MaxCodepoint)
            throw Error($"expected {digits} hex digits of a code point", start);
        _pos += digits;
        return v;
    }

    private string ParseName()
    {
        int start = _pos;
        while (_pos < _text.Length && IsNameChar(_text[_pos])) _pos++;
        if (start == _pos) throw Error($"expected a rule name, found '{_text[_pos]}'");
        return _text[start.._pos];
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_';

    private bool At(string s) => string.CompareOrdinal(_text, _pos, s, 0, s.Length) == 0;

    private void SkipSpace(bool newlines)
    {
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c is ' ' or '\t') _pos++;
            else if (c == '#') { while (_pos < _text.Length && _text[_pos] != '\n') _pos++; }
            else if (newlines && c is '\r' or '\n') _pos++;
            else break;
        }
    }

    private GrammarFormatException Error(string message, int? at = null)
    {
        int pos = Math.Min(at ?? _pos, _text.Length);
        int line = 1, col = 1;
        for (int i = 0; i < pos; i++)
        {
            if (_text[i] == '\n') { line++; col = 1; }
            else col++;
        }
        return new GrammarFormatException($"grammar error at line {line}, column {col}: {message}");
    }
}
