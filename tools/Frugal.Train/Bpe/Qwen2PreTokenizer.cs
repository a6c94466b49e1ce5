using System.Text.RegularExpressions;

namespace Frugal.Train.Bpe;

/// <summary>
/// The pre-tokenizer llama.cpp applies for tokenizer.ggml.pre = "qwen2" (llama-vocab.cpp,
/// LLAMA_VOCAB_PRE_TYPE_QWEN2), with the same regex: letters with one optional leading non-letter, every digit
/// alone (which helps arithmetic), punctuation runs, whitespace runs. BPE merges never cross these pieces.
/// </summary>
public static partial class Qwen2PreTokenizer
{
    public const string GgufName = "qwen2";

    public const string Pattern =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Splitter();

    public static IEnumerable<string> Split(string text)
    {
        foreach (Match m in Splitter().Matches(text)) yield return m.Value;
    }
}
