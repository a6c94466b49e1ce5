using System.Globalization;

namespace Frugal.Tokenization;

/// <summary>
/// Code point classification as llama.cpp's pre-tokenizer sees it, and its "collapsed" text: every code point
/// becomes one char, ASCII kept as is and every other code point replaced by a stand-in of its class, so that a
/// .NET Regex matches per code point (a UTF-16 surrogate pair would otherwise be two chars that \p{L} never
/// matches) and with llama.cpp's classes (ref: llama.cpp unicode.cpp, unicode_regex_split).
/// </summary>
internal static class CodepointClasses
{
    // Stand-ins: each is in exactly the .NET class its llama.cpp class maps to, and in none of the others.
    private const char Whitespace = '\v';  // llama.cpp collapses non-ASCII whitespace to 0x0B as well
    private const char Letter = '\u00AA';  // ª, Lo
    private const char Number = '\u00B2';  // ², No
    private const char Punctuation = '\u00A1'; // ¡, Po
    private const char Mark = '\u0300';    // combining grave, Mn
    private const char Symbol = '\u00A6';  // ¦, So
    private const char Other = '\u0080';   // a C1 control: not \s, not a letter, number or punctuation

    /// <summary>Code points of <paramref name="text"/>; a lone surrogate reads as U+FFFD, as its UTF-8 encoding does.</summary>
    /// <param name="charStart">char index where each code point starts, plus the text length at the end.</param>
    public static int[] Decode(string text, out int[] charStart)
    {
        var cps = new List<int>(text.Length);
        var starts = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length;)
        {
            starts.Add(i);
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cps.Add(char.ConvertToUtf32(c, text[i + 1]));
                i += 2;
            }
            else
            {
                cps.Add(char.IsSurrogate(c) ? 0xFFFD : c);
                i++;
            }
        }
        starts.Add(text.Length);
        charStart = [.. starts];
        return [.. cps];
    }

    public static string Collapse(ReadOnlySpan<int> cps)
    {
        return string.Create(cps.Length, cps.ToArray(), static (span, arr) =>
        {
            for (int i = 0; i < arr.Length; i++) span[i] = Collapse(arr[i]);
        });
    }

    private static char Collapse(int cp)
    {
        if (cp < 128) return (char)cp;
        if (IsWhitespace(cp)) return Whitespace;
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => Mark,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => Symbol,
            _ => Other,
        };
    }

    /// <summary>The Unicode White_Space property, which llama.cpp's flag table uses.</summary>
    public static bool IsWhitespace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or >= 0x2000 and <= 0x200A
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };
}
