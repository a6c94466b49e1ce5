namespace Frugal.Inference.Constraints;

/// <summary>
/// The vocabulary split by one character class C (after llguidance's "slices"): each token is its longest prefix of
/// whole C characters (L of them) and the bytes after it. In a parse state where every character of C moves the
/// grammar the same way (inside a JSON string, a run of digits, a host name), the state after L characters of C is
/// one state S_L whatever the characters were, so a token made only of C characters is allowed exactly when S_L is
/// alive, and any other token is decided by walking its remaining bytes from S_L. The first group is a precomputed
/// bit set per bound on L, the second a small trie per L: inside a JSON string the mask walks a few thousand trie
/// nodes instead of the vocabulary's 333 thousand. Built once per (vocabulary, class) and shared by every grammar, so
/// a schema compiled anew per request still finds it.
/// </summary>
internal sealed class TokenSlice
{
    /// <summary>Slices kept per vocabulary (each is at most (<see cref="Cumulative"/> + 1) * vocab / 8 bytes plus its
    /// remainder tries).</summary>
    private const int MaxPerVocabulary = 48;

    /// <summary>Bit sets kept for "whole tokens of at most L characters"; longer runs (rare) are id lists.</summary>
    private const int Cumulative = 12;

    private readonly ulong[][] _upTo;        // [min(maxL, Cumulative) + 1][vocab / 64] whole tokens of 1..L characters
    private readonly ulong[] _all;           // [vocab / 64] every whole token
    private readonly int[][] _wholeOf;       // [maxL + 1] ids of whole tokens of exactly L characters
    private readonly TokenTrie?[] _restOf;   // [maxL + 1] remainders of tokens with exactly L leading characters

    private TokenSlice(int vocab, List<int>[] wholeOf, List<(byte[] Bytes, int Id)>[] restOf)
    {
        MaxRun = wholeOf.Length - 1;
        int words = (vocab + 63) / 64;
        _wholeOf = [.. wholeOf.Select(l => l.ToArray())];
        _restOf = [.. restOf.Select(r => r.Count == 0 ? null : new TokenTrie(vocab, r, [], keepBytes: false))];
        _upTo = new ulong[Math.Min(MaxRun, Cumulative) + 1][];
        _upTo[0] = new ulong[words];
        for (int l = 1; l < _upTo.Length; l++)
        {
            _upTo[l] = (ulong[])_upTo[l - 1].Clone();
            Set(_upTo[l], _wholeOf[l]);
        }
        _all = (ulong[])_upTo[^1].Clone();
        for (int l = _upTo.Length; l <= MaxRun; l++) Set(_all, _wholeOf[l]);
        WholeCount = new int[MaxRun + 1];
        for (int l = 1; l <= MaxRun; l++) WholeCount[l] = WholeCount[l - 1] + _wholeOf[l].Length;
    }

    /// <summary>The most leading characters of C any token has.</summary>
    public int MaxRun { get; }

    /// <summary>[maxL + 1] how many whole tokens have at most L characters.</summary>
    public int[] WholeCount { get; }

    /// <summary>Adds the whole tokens of at most <paramref name="run"/> characters to <paramref name="bits"/> (all zero).</summary>
    public void AddWholeUpTo(int run, ulong[] bits)
    {
        if (run >= MaxRun) { _all.CopyTo(bits, 0); return; }
        if (run < _upTo.Length) { _upTo[run].CopyTo(bits, 0); return; }
        _upTo[^1].CopyTo(bits, 0);
        for (int l = _upTo.Length; l <= run; l++) Set(bits, _wholeOf[l]);
    }

    /// <summary>The remainders (bytes after exactly <paramref name="run"/> leading characters of C) and their tokens;
    /// null when no token has that split.</summary>
    public TokenTrie? RestAfter(int run) => _restOf[run];

    private static void Set(ulong[] bits, int[] ids)
    {
        foreach (int id in ids) bits[id >> 6] |= 1UL << (id & 63);
    }

    /// <summary>The slice of <paramref name="trie"/> by <paramref name="chars"/>, built on first use; null when the
    /// vocabulary already holds its quota of slices (the caller walks the whole trie instead).</summary>
    public static TokenSlice? For(TokenTrie trie, CodepointSet chars)
    {
        var slices = trie.Slices;
        lock (slices)
        {
            if (slices.TryGetValue(chars.Key, out var known)) return known;
            if (slices.Count >= MaxPerVocabulary) return null;
            var slice = Build(trie, chars);
            slices[chars.Key] = slice;
            return slice;
        }
    }

    private static TokenSlice Build(TokenTrie trie, CodepointSet chars)
    {
        var whole = new List<List<int>> { new() };
        var rest = new List<List<(byte[] Bytes, int Id)>> { new() };
        foreach (int id in trie.Tokens)
        {
            byte[] b = trie.BytesOf(id)!;
            int at = 0, run = 0;
            while (at < b.Length)
            {
                int n = WholeCharacter(b, at, out int cp);
                if (n == 0 || !chars.Contains(cp)) break;
                at += n;
                run++;
            }
            // A token that ends inside a character every completion of which is in C is allowed exactly when one more
            // character of C is: it counts as a whole token of run + 1 (so the walk never builds the half-written
            // character's states, one per byte prefix and state). One that can complete to no character at all
            // (a surrogate, past U+10FFFF) is never allowed.
            var cut = at == b.Length ? Cut.None : CutCharacter(b.AsSpan(at), chars);
            if (cut == Cut.Never) continue;
            if (cut == Cut.InClass) run++;
            while (whole.Count <= run) { whole.Add([]); rest.Add([]); }
            if (at == b.Length || cut == Cut.InClass) whole[run].Add(id);
            else rest[run].Add((b[at..], id));
        }
        return new TokenSlice(trie.Vocab, [.. whole], [.. rest]);
    }

    private enum Cut { None, InClass, Never, Other }

    /// <summary>Whether <paramref name="tail"/> is one character cut short whose every completion lies in
    /// <paramref name="chars"/> (<see cref="Cut.InClass"/>) or that completes to no character
    /// (<see cref="Cut.Never"/>); the completions are what <see cref="GrammarAutomaton"/> keeps a half-written
    /// character for: not overlong, not a surrogate, at most U+10FFFF.</summary>
    private static Cut CutCharacter(ReadOnlySpan<byte> tail, CodepointSet chars)
    {
        byte lead = tail[0];
        int total, value;
        if (lead is >= 0xC2 and < 0xE0) { total = 2; value = lead & 0x1F; }
        else if (lead is >= 0xE0 and < 0xF0) { total = 3; value = lead & 0x0F; }
        else if (lead is >= 0xF0 and < 0xF5) { total = 4; value = lead & 0x07; }
        else return Cut.Other;
        if (tail.Length >= total) return Cut.Other;
        for (int k = 1; k < tail.Length; k++)
        {
            if ((tail[k] & 0xC0) != 0x80) return Cut.Other;
            value = (value << 6) | (tail[k] & 0x3F);
        }
        int remaining = total - tail.Length;
        int lo = value << (6 * remaining), hi = lo | ((1 << (6 * remaining)) - 1);
        lo = Math.Max(lo, total switch { 2 => 0x80, 3 => 0x800, _ => 0x10000 });
        hi = Math.Min(hi, CodepointSet.MaxCodepoint);
        bool below = lo <= hi && lo < 0xD800, above = lo <= hi && hi > 0xDFFF;
        if (!below && !above) return Cut.Never;
        if (below && !chars.CoversRange(lo, Math.Min(hi, 0xD7FF))) return Cut.Other;
        if (above && !chars.CoversRange(Math.Max(lo, 0xE000), hi)) return Cut.Other;
        return Cut.InClass;
    }

    /// <summary>The length of the well-formed UTF-8 character at <paramref name="at"/> (its code point in
    /// <paramref name="cp"/>), or 0 when the bytes there are not one whole character (cut short, overlong, a surrogate).</summary>
    internal static int WholeCharacter(ReadOnlySpan<byte> b, int at, out int cp)
    {
        cp = -1;
        byte lead = b[at];
        int n, value, min;
        if (lead < 0x80) { cp = lead; return 1; }
        if (lead is >= 0xC2 and < 0xE0) { n = 2; value = lead & 0x1F; min = 0x80; }
        else if (lead is >= 0xE0 and < 0xF0) { n = 3; value = lead & 0x0F; min = 0x800; }
        else if (lead is >= 0xF0 and < 0xF5) { n = 4; value = lead & 0x07; min = 0x10000; }
        else return 0;
        if (at + n > b.Length) return 0;
        for (int k = 1; k < n; k++)
        {
            if ((b[at + k] & 0xC0) != 0x80) return 0;
            value = (value << 6) | (b[at + k] & 0x3F);
        }
        if (value < min || value > CodepointSet.MaxCodepoint || value is >= 0xD800 and <= 0xDFFF) return 0;
        cp = value;
        return n;
    }
}
