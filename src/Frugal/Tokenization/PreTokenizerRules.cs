using System.Text.RegularExpressions;

namespace Frugal.Tokenization;

/// <summary>
/// How a byte-level BPE vocabulary splits text into words before merging, chosen by tokenizer.ggml.pre, with
/// the flags llama.cpp ties to each pre-tokenizer (ignore_merges, clean_spaces, add_bos default).
/// </summary>
/// <remarks>
/// The patterns are llama.cpp's (its "adapted" forms: case-insensitive contractions spelled out as [sS] etc.).
/// They run on <see cref="CodepointClasses"/>' collapsed text, one char per code point, exactly as llama.cpp's
/// <c>unicode_regex_split</c> runs std::regex on its collapsed text; its hand-written llama3 and gpt2 splitters
/// are equivalent to these patterns on assigned code points.
/// </remarks>
public sealed class PreTokenizerRules
{
    private const string Contractions = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

    internal const string Llama3Pattern =
        Contractions + @"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    internal const string Qwen2Pattern =
        Contractions + @"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    // llama.cpp's adaptation of [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]* / [\p{Ll}\p{Lm}\p{Lo}\p{M}]+, which its std::regex
    // cannot spell: a letter that is not a-z / not A-Z. On the collapsed text every non-ASCII letter is one stand-in
    // that is in both, and marks are in neither, exactly as in llama.cpp (not as in the original tokenizer.json).
    private const string UpperThenLower = @"(?:(?=\p{L})[^a-z])*(?:(?=\p{L})[^A-Z])+";
    private const string UpperRun = @"(?:(?=\p{L})[^a-z])+(?:(?=\p{L})[^A-Z])*";

    /// <summary>Mistral Nemo's tekken (tiktoken-style: one digit per piece, case-split words).</summary>
    internal const string TekkenPattern =
        @"[^\r\n\p{L}\p{N}]?" + UpperThenLower + @"|[^\r\n\p{L}\p{N}]?" + UpperRun
        + @"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>o200k (gpt-4o, Phi-4-mini, Llama 4): tekken's words with trailing contractions, digits in threes.</summary>
    internal const string Gpt4oPattern =
        @"[^\r\n\p{L}\p{N}]?" + UpperThenLower + Contractions + @"?|[^\r\n\p{L}\p{N}]?" + UpperRun + Contractions
        + @"?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    // llama.cpp lists this without the final "|\s+" but its hand-written gpt2 splitter has that branch.
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private PreTokenizerRules(string name, string[] patterns)
    {
        Name = name;
        Patterns = patterns;
        Regexes = Array.ConvertAll(patterns, p => new Regex(p, RegexOptions.CultureInvariant | RegexOptions.Compiled));
    }

    /// <summary>The tokenizer.ggml.pre value these rules were chosen for ("default" when absent).</summary>
    public string Name { get; }

    /// <summary>Patterns applied one after another, each splitting the pieces the previous one produced.</summary>
    public IReadOnlyList<string> Patterns { get; }

    internal Regex[] Regexes { get; }

    /// <summary>A word that is already a token is emitted whole, without merging (llama3-style vocabularies).</summary>
    public bool IgnoreMerges { get; private init; }

    public bool CleanSpaces { get; private init; } = true;

    public bool AddBos { get; private init; }

    /// <summary>The family has no BOS token (chatglm).</summary>
    public bool NoBos { get; private init; }

    /// <summary>
    /// Rules for a tokenizer.ggml.pre value. Unknown values throw, as llama.cpp refuses such files
    /// ("unknown pre-tokenizer type"); a missing value gets llama.cpp's 'default' rules.
    /// </summary>
    /// <exception cref="TokenizerFormatException">the value names a pre-tokenizer this library does not know.</exception>
    public static PreTokenizerRules Resolve(string? pre) => pre switch
    {
        null or "" or "default" => new("default", [@"[\p{P}\$\+<=>\^~\|]+", Gpt2Pattern, @"\p{N}+", "[0-9][0-9][0-9]"]),
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2" =>
            new(pre, [Llama3Pattern]) { IgnoreMerges = true, AddBos = true },
        "dbrx" or "smaug-bpe" => new(pre, [Llama3Pattern]),
        "qwen2" or "deepseek-r1-qwen" => new(pre, [Qwen2Pattern]) { CleanSpaces = false },
        "stablelm2" or "megrez" => new(pre, [Qwen2Pattern]),
        "gpt-2" or "phi-2" or "jina-es" or "jina-de" or "gigachat" or "jina-v2-es" or "jina-v2-de" or "a.x-4.0" or "mellum"
            or "mpt" or "olmo" or "exaone4" or "trillion" or "granite-docling" or "jina-v1-en" or "jina-v2-code" or "roberta-bpe" =>
            new(pre, [Gpt2Pattern]) { CleanSpaces = pre is not ("trillion" or "granite-docling") },
        "smollm" or "command-r" => new(pre, [@"\p{N}", Gpt2Pattern]) { CleanSpaces = false },
        "starcoder" or "refact" or "codeshell" or "exaone" or "minerva-7b" => new(pre, [@"\p{N}", Gpt2Pattern]),
        "glm4" or "chatglm-bpe" => new(pre, [Llama3Pattern]) { NoBos = true },
        "tekken" => new(pre, [TekkenPattern]) { CleanSpaces = false, IgnoreMerges = true, AddBos = true },
        "gpt-4o" or "llama4" => new(pre, [Gpt4oPattern]) { CleanSpaces = false },
        _ => throw new TokenizerFormatException("tokenizer.ggml.pre",
            $"unknown pre-tokenizer '{pre}' (supported: llama-bpe/llama3, qwen2, gpt-2, smollm, tekken, gpt-4o, default and their aliases)"),
    };

    /// <summary>Splits text into the words BPE merges within, in order; the words concatenate back to the text.</summary>
    public List<string> Split(string text)
    {
        var cps = CodepointClasses.Decode(text, out int[] charStart);
        string collapsed = CodepointClasses.Collapse(cps);
        // Pieces as [start, end) code point ranges.
        var pieces = new List<(int Start, int End)> { (0, cps.Length) };
        foreach (var regex in Regexes)
        {
            var next = new List<(int, int)>(pieces.Count * 2);
            foreach (var (start, end) in pieces)
            {
                int at = start;
                // Match within the piece only, as llama.cpp runs std::regex_iterator over each piece separately.
                string piece = collapsed[start..end];
                for (var m = regex.Match(piece); m.Success; m = m.NextMatch())
                {
                    if (m.Length == 0) continue;
                    int ms = start + m.Index, me = ms + m.Length;
                    if (ms > at) next.Add((at, ms));
                    next.Add((ms, me));
                    at = me;
                }
                if (at < end) next.Add((at, end));
            }
            pieces = next;
        }

        var words = new List<string>(pieces.Count);
        foreach (var (start, end) in pieces)
            words.Add(text[charStart[start]..charStart[end]]);
        return words;
    }
}
