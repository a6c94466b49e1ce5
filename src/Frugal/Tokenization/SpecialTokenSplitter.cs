namespace Frugal.Tokenization;

/// <summary>One piece of partitioned input: either a special token or a range of raw text still to tokenize.</summary>
internal readonly record struct TextFragment(int Token, int Start, int Length)
{
    public bool IsToken => Token >= 0;
}

/// <summary>
/// Cuts special-token text out of the input before tokenization, as llama.cpp's <c>tokenizer_st_partition</c>:
/// each split token in turn (longest first) is searched in every remaining raw fragment, left to right.
/// Without <c>parseSpecial</c>, control and unknown tokens stay plain text but user-defined tokens are still cut.
/// </summary>
internal static class SpecialTokenSplitter
{
    public static List<TextFragment> Split(GgufVocabulary vocab, string text, bool parseSpecial)
    {
        var fragments = new List<TextFragment>();
        if (text.Length == 0) return fragments;
        fragments.Add(new TextFragment(-1, 0, text.Length));

        foreach (int id in vocab.SplitTokens)
        {
            var attr = vocab.Attributes[id];
            if (!parseSpecial && (attr & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) continue;
            string special = vocab.Texts[id];

            List<TextFragment>? next = null;
            for (int f = 0; f < fragments.Count; f++)
            {
                var frag = fragments[f];
                int found = frag.IsToken ? -1 : text.IndexOf(special, frag.Start, frag.Length, StringComparison.Ordinal);
                if (found < 0)
                {
                    next?.Add(frag);
                    continue;
                }

                next ??= fragments.GetRange(0, f);
                int start = frag.Start, end = frag.Start + frag.Length;
                while (found >= 0)
                {
                    int leftEnd = found;
                    if ((attr & TokenAttributes.LStrip) != 0)
                        while (leftEnd > start && IsCSpace(text[leftEnd - 1])) leftEnd--;
                    if (leftEnd > start) next.Add(new TextFragment(-1, start, leftEnd - start));
                    next.Add(new TextFragment(id, found, special.Length));

                    start = found + special.Length;
                    if ((attr & TokenAttributes.RStrip) != 0)
                        while (start < end && IsCSpace(text[start])) start++;
                    found = start < end ? text.IndexOf(special, start, end - start, StringComparison.Ordinal) : -1;
                }
                if (start < end) next.Add(new TextFragment(-1, start, end - start));
            }
            if (next is not null) fragments = next;
        }
        return fragments;
    }

    /// <summary>C's isspace in the "C" locale, which llama.cpp uses for lstrip/rstrip.</summary>
    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
