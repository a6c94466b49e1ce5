using System.Runtime.CompilerServices;
using Frugal.Tokenization;

namespace Frugal.Inference.Constraints;

/// <summary>
/// The vocabulary's token byte strings as a trie laid out in pre-order (which is sorted order), so a mask walk is one
/// forward pass that skips a whole subtree when its prefix is refused: a shared prefix is checked once for every
/// token that starts with it. Control and unused tokens are left out (a grammar never produces them); end-of-
/// generation tokens are listed apart, allowed only when the grammar can end. Built once per tokenizer.
/// </summary>
public sealed class TokenTrie
{
    private static readonly ConditionalWeakTable<Tokenizer, TokenTrie> Cache = new();

    internal readonly byte[] Bytes;      // [nodes] the byte on the edge into the node
    internal readonly byte[] Depth;      // [nodes] 1 for a child of the root; capped tokens longer than 255 bytes are left out
    internal readonly int[] SubtreeEnd;  // [nodes] index just past the node's last descendant
    internal readonly int[] TokenStart;  // [nodes + 1] CSR into Tokens: the tokens whose bytes end at the node
    internal readonly int[] Tokens;

    private TokenTrie(Tokenizer tokenizer) : this(tokenizer.VocabSize, TextTokens(tokenizer), tokenizer.EndOfGeneration)
    {
    }

    private static IEnumerable<(byte[] Bytes, int Id)> TextTokens(Tokenizer tokenizer)
    {
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            if (tokenizer.IsEndOfGeneration(id)) continue;
            var attrs = tokenizer.GetAttributes(id);
            if ((attrs & (TokenAttributes.Control | TokenAttributes.Unused | TokenAttributes.Unknown)) != 0) continue;
            yield return (tokenizer.TokenBytes(id), id);
        }
    }

    /// <param name="vocab">token ids are below this.</param>
    /// <param name="textTokens">the tokens a grammar may produce, with their bytes.</param>
    /// <param name="endOfGeneration">ids allowed only where the grammar can end.</param>
    /// <param name="keepBytes">whether <see cref="BytesOf"/> answers (a slice's remainder trie needs no [vocab] table).</param>
    internal TokenTrie(int vocab, IEnumerable<(byte[] Bytes, int Id)> textTokens, IEnumerable<int> endOfGeneration, bool keepBytes = true)
    {
        Vocab = vocab;
        EndOfGeneration = [.. endOfGeneration.Where(t => (uint)t < (uint)Vocab).Distinct().Order()];
        _bytesOf = keepBytes ? new byte[]?[vocab] : [];
        var entries = new List<(byte[] Bytes, int Id)>();
        foreach (var (b, id) in textTokens)
        {
            if ((uint)id >= (uint)vocab || b.Length is 0 or > 255 || EndOfGeneration.Contains(id)) continue;
            entries.Add((b, id));
            if (keepBytes) _bytesOf[id] = b;
        }
        entries.Sort((x, y) => x.Bytes.AsSpan().SequenceCompareTo(y.Bytes) is int c && c != 0 ? c : x.Id.CompareTo(y.Id));

        var bytes = new List<byte>();
        var depth = new List<byte>();
        var tokenStart = new List<int>();
        var tokens = new List<int>(entries.Count);
        byte[] previous = [];
        foreach (var (b, id) in entries)
        {
            int common = 0;
            while (common < previous.Length && common < b.Length && previous[common] == b[common]) common++;
            for (int d = common; d < b.Length; d++)
            {
                bytes.Add(b[d]);
                depth.Add((byte)(d + 1));
                tokenStart.Add(tokens.Count);
            }
            tokens.Add(id); // belongs to the last node, whose TokenStart is at or before this entry
            previous = b;
        }
        Bytes = [.. bytes];
        Depth = [.. depth];
        Tokens = [.. tokens];
        TokenStart = [.. tokenStart, tokens.Count];
        SubtreeEnd = new int[Bytes.Length];
        var open = new Stack<int>();
        for (int i = 0; i < Bytes.Length; i++)
        {
            while (open.Count > 0 && Depth[open.Peek()] >= Depth[i]) SubtreeEnd[open.Pop()] = i;
            open.Push(i);
        }
        while (open.Count > 0) SubtreeEnd[open.Pop()] = Bytes.Length;
        TokenCount = entries.Count;
    }

    /// <summary>The trie of this tokenizer's vocabulary, built on first use and kept while the tokenizer lives.</summary>
    public static TokenTrie For(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Cache.GetValue(tokenizer, t => new TokenTrie(t));
    }

    /// <summary>Token ids are below this.</summary>
    public int Vocab { get; }

    public int NodeCount => Bytes.Length;

    /// <summary>Tokens in the trie (the vocabulary less control, unused and end-of-generation tokens).</summary>
    public int TokenCount { get; }

    internal int[] EndOfGeneration { get; }

    private readonly byte[]?[] _bytesOf; // [vocab] a text token's bytes; null for ids the grammar never produces

    /// <summary>The bytes of a token a grammar may produce, or null for control, unused and end-of-generation ids.</summary>
    internal byte[]? BytesOf(int id) => (uint)id < (uint)_bytesOf.Length ? _bytesOf[id] : null;

    /// <summary>Slices of this vocabulary by character class (<see cref="TokenSlice"/>), keyed by the class's ranges.</summary>
    internal Dictionary<string, TokenSlice> Slices { get; } = new(StringComparer.Ordinal);

    internal bool IsEndOfGeneration(int id) => System.Array.BinarySearch(EndOfGeneration, id) >= 0;
}
