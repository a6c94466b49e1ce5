using System.Numerics;
using System.Text;
using Frugal.Tokenization;

namespace Frugal.Inference.Constraints;

/// <summary>
/// One sequence's progress through a grammar, and the token mask of each decoding step: which tokens keep the output
/// a prefix of a sentence of the grammar. Where every character of a class moves the parse state alike (inside a
/// string), the tokens made of that class come from a precomputed <see cref="TokenSlice"/> and only the rest of each
/// other token is walked; elsewhere the mask is a walk of the vocabulary's <see cref="TokenTrie"/> against the
/// grammar's byte automaton (a refused prefix skips its whole subtree). Masks are cached per automaton state, since
/// the same parse states come back again and again. End-of-generation tokens are allowed only where the grammar can
/// end.
/// </summary>
public sealed class GrammarMatcher
{
    private readonly GrammarTables _tables;
    private readonly GrammarAutomaton _automaton;
    private readonly TokenTrie _trie;
    private readonly Dictionary<int, GrammarMask> _masks;
    private readonly int[] _depthState = new int[257]; // [depth] automaton state after the trie path's first d bytes
    private int[] _chain = new int[64];                 // [run] automaton state after any run characters of a slice's class
    private int _state;
    private ulong[]? _bits;      // [vocab / 64] the mask _bitsOf as a bit set, when the mask keeps only ids
    private GrammarMask? _bitsOf;

    public GrammarMatcher(GbnfGrammar grammar, Tokenizer tokenizer)
        : this(grammar, TokenTrie.For(tokenizer ?? throw new ArgumentNullException(nameof(tokenizer))))
    {
    }

    /// <summary>A matcher over a vocabulary given as a trie (the mask benchmark builds one from a tokenizer.json).</summary>
    public GrammarMatcher(GbnfGrammar grammar, TokenTrie vocabulary)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        _trie = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));
        _tables = GrammarTables.For(grammar, _trie);
        _automaton = _tables.Automaton;
        _masks = _tables.Masks;
        _state = _automaton.Start;
    }

    /// <summary>The output so far may end here (a complete sentence of the grammar).</summary>
    public bool CanEnd
    {
        get { lock (_tables.Gate) return _automaton.CanEnd(_state); }
    }

    /// <summary>The character class the current state's mask is sliced by, if any (tests).</summary>
    internal CodepointSet? SliceClass
    {
        get { lock (_tables.Gate) return _automaton.UniformSet(_state); }
    }

    /// <summary>Automaton states built so far (a measure of the work cached).</summary>
    public int StateCount => _automaton.StateCount;

    /// <summary>Advances past a generated token; false (and no change) when the grammar refuses it.</summary>
    public bool Accept(int token)
    {
        if (_trie.IsEndOfGeneration(token)) return CanEnd;
        if (_trie.BytesOf(token) is not byte[] bytes) return false; // control and unused tokens are never text of a grammar
        lock (_tables.Gate)
        {
            int next = _automaton.Walk(_state, bytes);
            if (next == GrammarAutomaton.Dead) return false;
            _state = next;
            return true;
        }
    }

    /// <summary>Whether the grammar accepts these bytes next (the text so far plus them is still a valid prefix).</summary>
    public bool AcceptsPrefix(ReadOnlySpan<byte> bytes)
    {
        lock (_tables.Gate) return _automaton.Walk(_state, bytes) != GrammarAutomaton.Dead;
    }

    /// <summary>Whether the grammar accepts <paramref name="text"/> as a whole sentence from the current state.</summary>
    public bool AcceptsComplete(string text)
    {
        lock (_tables.Gate)
        {
            int s = _automaton.Walk(_state, Encoding.UTF8.GetBytes(text));
            return s != GrammarAutomaton.Dead && _automaton.CanEnd(s);
        }
    }

    /// <summary>Advances past raw text (e.g. a forced prefix); false (and no change) when the grammar refuses it.</summary>
    public bool AcceptText(string text)
    {
        lock (_tables.Gate)
        {
            int s = _automaton.Walk(_state, Encoding.UTF8.GetBytes(text));
            if (s == GrammarAutomaton.Dead) return false;
            _state = s;
            return true;
        }
    }

    /// <summary>
    /// The tokens allowed at this step, as a bit set over token ids ([ceil(vocab / 64)] words), how many there are,
    /// and one of them (the only one when the count is 1). Valid until the next <see cref="Accept"/>.
    /// </summary>
    public (ReadOnlyMemory<ulong> Bits, int Count, int Any) AllowedTokens()
    {
        var m = MaskOf(_state);
        if (m.Bits is ulong[] bits) return (bits, m.Count, m.Any);
        // A mask kept as an id list: spread it into this matcher's own bit set (once per mask it meets in a row).
        if (!ReferenceEquals(_bitsOf, m))
        {
            _bits ??= new ulong[(_trie.Vocab + 63) / 64];
            // Unset the previous mask's ids (a few hundred words at most, where clearing the whole set is 19 KB).
            if (_bitsOf?.Ids is int[] previous)
                foreach (int id in previous) _bits[id >> 6] = 0;
            foreach (int id in m.Ids!) _bits[id >> 6] |= 1UL << (id & 63);
            _bitsOf = m;
        }
        return (_bits!, m.Count, m.Any);
    }

    /// <summary>Sets the logits of every refused token to -infinity (<paramref name="logits"/> may be longer than the
    /// tokenizer's vocabulary: padding ids are refused too); returns how many remain, one of them (an end-of-generation
    /// token when the grammar can end), and whether only end-of-generation tokens remain.</summary>
    public (int Count, int Any, bool OnlyEnd) Apply(Span<float> logits)
    {
        var m = MaskOf(_state);
        if (m.Ids is int[] ids)
        {
            // Few allowed (outside a string): keep them, fill the row with -infinity (vectorized), put them back.
            Span<float> kept = ids.Length <= 4096 ? stackalloc float[ids.Length] : new float[ids.Length];
            for (int i = 0; i < ids.Length; i++) kept[i] = ids[i] < logits.Length ? logits[ids[i]] : float.NegativeInfinity;
            logits.Fill(float.NegativeInfinity);
            for (int i = 0; i < ids.Length; i++)
                if (ids[i] < logits.Length) logits[ids[i]] = kept[i];
        }
        else
        {
            var bits = m.Bits!;
            for (int w = 0; w * 64 < logits.Length; w++)
            {
                ulong word = w < bits.Length ? bits[w] : 0;
                if (word == ulong.MaxValue) continue;
                int baseId = w * 64, end = Math.Min(64, logits.Length - baseId);
                ulong refused = ~word;
                while (refused != 0)
                {
                    int bit = BitOperations.TrailingZeroCount(refused);
                    if (bit >= end) break;
                    logits[baseId + bit] = float.NegativeInfinity;
                    refused &= refused - 1;
                }
            }
        }
        return (m.Count, m.Any, m.Count > 0 && m.TextTokens == 0);
    }

    private GrammarMask MaskOf(int state)
    {
        lock (_tables.Gate)
        {
            if (_masks.TryGetValue(state, out var cached)) return cached;
            if (_masks.Count >= GrammarTables.MaxMasks) _masks.Clear();
            var mask = Compute(state);
            _masks[state] = mask;
            return mask;
        }
    }

    private GrammarMask Compute(int state)
    {
        var t = _trie;
        var bits = _tables.Scratch(t.Vocab);
        int count;
        // In a state that moves alike on every character of a class (inside a string), the tokens made only of that
        // class come from a precomputed set and only the other tokens' remainders are walked.
        if (_automaton.UniformSet(state) is not CodepointSet chars || TokenSlice.For(t, chars) is not TokenSlice slice
            || !Sliced(state, chars, slice, bits, out count))
        {
            count = Walk(t, state, bits);
        }
        int textTokens = count;
        if (_automaton.CanEnd(state))
            foreach (int id in t.EndOfGeneration)
            {
                bits[id >> 6] |= 1UL << (id & 63);
                count++;
            }
        int any = -1;
        for (int w = bits.Length - 1; w >= 0 && any < 0; w--)
            if (bits[w] != 0) any = w * 64 + 63 - BitOperations.LeadingZeroCount(bits[w]);
        if (_automaton.CanEnd(state) && t.EndOfGeneration.Length > 0) any = t.EndOfGeneration[^1];
        if (count < t.Vocab / 8)
        {
            var list = new int[count];
            int k = 0;
            for (int w = 0; w < bits.Length; w++)
                for (ulong word = bits[w]; word != 0; word &= word - 1)
                    list[k++] = w * 64 + BitOperations.TrailingZeroCount(word);
            foreach (int id in list) bits[id >> 6] = 0; // leave the scratch set zero: clearing all 19 KB per mask was 5% of the time
            return new GrammarMask(null, count, any, textTokens, list);
        }
        // The scratch set becomes the mask's own (the next mask gets a fresh one): no copy, no clear.
        _tables.TakeScratch();
        return new GrammarMask(bits, count, any, textTokens, null);
    }

    /// <summary>
    /// The text tokens allowed from <paramref name="state"/> by <paramref name="slice"/>: S_0 = the state, S_L = the
    /// state after any L characters of the class; a token of L whole characters is allowed when S_L is alive, another
    /// when its remainder walks from S_L. False when some S_L (L >= 1) moves unlike on the class (the caller walks
    /// the whole trie).
    /// </summary>
    private bool Sliced(int state, CodepointSet chars, TokenSlice slice, ulong[] bits, out int count)
    {
        if (_chain.Length <= slice.MaxRun) _chain = new int[slice.MaxRun + 1];
        var chain = _chain;
        chain[0] = state;
        int alive = 0;
        for (int run = 1; run <= slice.MaxRun; run++)
        {
            // A state that any character of the class leads back to stays: no need to ask again.
            int next = run >= 2 && chain[run - 1] == chain[run - 2] ? chain[run - 1] : _automaton.AfterAny(chain[run - 1], chars);
            if (next == GrammarAutomaton.NotUniform) { count = 0; return false; }
            if (next == GrammarAutomaton.Dead) break;
            chain[run] = next;
            alive = run;
        }
        slice.AddWholeUpTo(alive, bits);
        count = slice.WholeCount[alive];
        for (int run = 0; run <= alive; run++)
            if (slice.RestAfter(run) is TokenTrie rest) count += Walk(rest, chain[run], bits);
        return true;
    }

    /// <summary>Sets the bits of the tokens of <paramref name="trie"/> whose bytes the automaton accepts from
    /// <paramref name="state"/>; returns how many. One forward pass over the pre-order trie: a refused prefix skips
    /// its subtree.</summary>
    private int Walk(TokenTrie trie, int state, ulong[] bits)
    {
        int count = 0;
        var depthState = _depthState;
        depthState[0] = state;
        byte[] bytes = trie.Bytes, depth = trie.Depth;
        int[] end = trie.SubtreeEnd, tokenStart = trie.TokenStart, tokens = trie.Tokens;
        int n = bytes.Length;
        for (int i = 0; i < n;)
        {
            int d = depth[i];
            int s = _automaton.Next(depthState[d - 1], bytes[i]);
            if (s == GrammarAutomaton.Dead) { i = end[i]; continue; }
            depthState[d] = s;
            for (int k = tokenStart[i]; k < tokenStart[i + 1]; k++)
            {
                int id = tokens[k];
                bits[id >> 6] |= 1UL << (id & 63);
                count++;
            }
            i++;
        }
        return count;
    }
}
