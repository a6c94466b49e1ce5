using System.Globalization;
using System.Text;

namespace Frugal.Tokenization.ChatTemplates;

/// <summary>
/// Splits template text into tokens the way Jinja2 does under the settings Hugging Face transformers renders chat
/// templates with: trim_blocks and lstrip_blocks on, keep_trailing_newline off, and '-' whitespace control on tags.
/// </summary>
internal sealed class JinjaLexer
{
    private static readonly string[] Operators =
        ["==", "!=", "<=", ">=", "//", "**", "<", ">", "+", "-", "*", "/", "%", "~", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"];

    private readonly string _src;
    private readonly List<JinjaToken> _tokens = [];
    private int _pos;

    private JinjaLexer(string source)
    {
        // keep_trailing_newline=False: Jinja2 drops one trailing newline of the template.
        _src = source.EndsWith("\r\n", StringComparison.Ordinal) ? source[..^2]
            : source.EndsWith('\n') ? source[..^1] : source;
    }

    public static List<JinjaToken> Tokenize(string source, out string normalizedSource)
    {
        var lexer = new JinjaLexer(source);
        lexer.Run();
        normalizedSource = lexer._src;
        return lexer._tokens;
    }

    private void Run()
    {
        bool stripNextLeading = false;   // previous tag ended with '-'
        bool trimNextNewline = false;    // previous tag was a block or comment (trim_blocks)
        while (_pos < _src.Length)
        {
            int tagStart = FindTagStart(_pos);
            int textEnd = tagStart < 0 ? _src.Length : tagStart;
            char tagKind = tagStart < 0 ? '\0' : _src[tagStart + 1];
            bool leftMinus = tagStart >= 0 && tagStart + 2 < _src.Length && _src[tagStart + 2] == '-';
            bool leftPlus = tagStart >= 0 && tagStart + 2 < _src.Length && _src[tagStart + 2] == '+';

            int textStart = _pos;
            if (stripNextLeading)
                while (textStart < textEnd && char.IsWhiteSpace(_src[textStart])) textStart++;
            else if (trimNextNewline)
            {
                if (textStart < textEnd && _src[textStart] == '\n') textStart++;
                else if (textStart + 1 < textEnd && _src[textStart] == '\r' && _src[textStart + 1] == '\n') textStart += 2;
            }

            int cut = textEnd;
            if (leftMinus)
                while (cut > textStart && char.IsWhiteSpace(_src[cut - 1])) cut--;
            else if (tagKind is '%' or '#' && !leftPlus)
            {
                // lstrip_blocks: spaces and tabs from the start of the line up to a block or comment tag go.
                int j = cut;
                while (j > textStart && _src[j - 1] is ' ' or '\t') j--;
                if (j == 0 || _src[j - 1] == '\n') cut = j;
            }
            if (cut > textStart)
                _tokens.Add(new JinjaToken(JinjaTokenKind.Text, _src[textStart..cut], textStart));
            if (tagStart < 0)
                break;

            _pos = tagStart + 2 + (leftMinus || leftPlus ? 1 : 0);
            bool rightMinus = tagKind switch
            {
                '#' => SkipComment(tagStart),
                '%' => LexTag(tagStart, JinjaTokenKind.BlockStart, JinjaTokenKind.BlockEnd, '%'),
                _ => LexTag(tagStart, JinjaTokenKind.VariableStart, JinjaTokenKind.VariableEnd, '}'),
            };
            stripNextLeading = rightMinus;
            trimNextNewline = tagKind is '%' or '#';
            if (tagKind == '%' && IsRawBlock())
                throw ChatTemplateException.At(_src, tagStart, "unsupported construct '{% raw %}'");
        }
        _tokens.Add(new JinjaToken(JinjaTokenKind.End, "", _src.Length));
    }

    private bool IsRawBlock()
    {
        int n = _tokens.Count;
        return n >= 3 && _tokens[n - 3].Kind == JinjaTokenKind.BlockStart && _tokens[n - 2].IsName("raw");
    }

    private int FindTagStart(int from)
    {
        for (int i = from; i + 1 < _src.Length; i++)
            if (_src[i] == '{' && _src[i + 1] is '{' or '%' or '#')
                return i;
        return -1;
    }

    private bool SkipComment(int tagStart)
    {
        int close = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (close < 0)
            throw ChatTemplateException.At(_src, tagStart, "comment '{#' is never closed with '#}'");
        bool rightMinus = close > _pos && _src[close - 1] == '-';
        _pos = close + 2;
        return rightMinus;
    }

    /// <summary>Lexes the inside of a {% %} or {{ }} tag; returns whether it closed with '-'.</summary>
    private bool LexTag(int tagStart, JinjaTokenKind open, JinjaTokenKind close, char closeChar)
    {
        _tokens.Add(new JinjaToken(open, _src.Substring(tagStart, 2), tagStart));
        int braceDepth = 0;
        while (true)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) _pos++;
            if (_pos >= _src.Length)
                throw ChatTemplateException.At(_src, tagStart, $"tag '{_src.Substring(tagStart, 2)}' is never closed");
            char c = _src[_pos];
            if (braceDepth == 0 && (Closes(_pos, closeChar) || (c == '-' && Closes(_pos + 1, closeChar))))
            {
                bool minus = c == '-';
                int at = _pos + (minus ? 1 : 0);
                _tokens.Add(new JinjaToken(close, _src.Substring(at, 2), at));
                _pos = at + 2;
                return minus;
            }
            if (c is '\'' or '"') LexString();
            else if (char.IsAsciiDigit(c)) LexNumber();
            else if (char.IsAsciiLetter(c) || c == '_') LexName();
            else
            {
                string? op = Operators.FirstOrDefault(o => string.CompareOrdinal(_src, _pos, o, 0, o.Length) == 0);
                if (op is null)
                    throw ChatTemplateException.At(_src, _pos, $"unexpected character '{c}' in tag");
                if (op == "{") braceDepth++;
                else if (op == "}") braceDepth--;
                _tokens.Add(new JinjaToken(JinjaTokenKind.Operator, op, _pos));
                _pos += op.Length;
            }
        }
    }

    private bool Closes(int at, char closeChar) =>
        at + 1 < _src.Length && _src[at] == closeChar && _src[at + 1] == '}';

    private void LexName()
    {
        int start = _pos;
        while (_pos < _src.Length && (char.IsAsciiLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
        _tokens.Add(new JinjaToken(JinjaTokenKind.Name, _src[start.._pos], start));
    }

    private void LexNumber()
    {
        int start = _pos;
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
        bool isFloat = false;
        if (_pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) _pos++;
        }
        if (_pos < _src.Length && _src[_pos] is 'e' or 'E')
        {
            int save = _pos++;
            if (_pos < _src.Length && _src[_pos] is '+' or '-') _pos++;
            if (_pos < _src.Length && char.IsAsciiDigit(_src[_pos]))
            {
                isFloat = true;
                while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) _pos++;
            }
            else _pos = save;
        }
        string text = _src[start.._pos].Replace("_", "", StringComparison.Ordinal);
        _tokens.Add(new JinjaToken(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, text, start));
    }

    private void LexString()
    {
        int start = _pos;
        char quote = _src[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length)
                throw ChatTemplateException.At(_src, start, "string literal is never closed");
            char c = _src[_pos++];
            if (c == quote) break;
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (_pos >= _src.Length)
                throw ChatTemplateException.At(_src, start, "string literal is never closed");
            char e = _src[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': break; // a backslash before a newline continues the line, as in Python
                case 'u' or 'x':
                    int digits = e == 'u' ? 4 : 2;
                    if (_pos + digits > _src.Length || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
                        throw ChatTemplateException.At(_src, _pos - 2, $"bad \\{e} escape in string literal");
                    sb.Append((char)code);
                    _pos += digits;
                    break;
                default:
                    // Python keeps unknown escapes as written.
                    sb.Append('\\').Append(e);
                    break;
            }
        }
        _tokens.Add(new JinjaToken(JinjaTokenKind.String, sb.ToString(), start));
    }
}
