using System.Numerics;
using System.Text;
using Frugal.Tokenization;

namespace Frugal.Inference.Constraints;

/// <summary>
/// One sequence's progress through a grammar, and the token mask of each decoding step: which tokens keep the output
/// a prefix of a sentence of the grammar. The mask is a walk of the vocabulary's <see cref="TokenTrie"/> against the
/// grammar's byte automaton (a refused prefix skips its whole subtree), cached per automaton state, since the same
/// parse states come back again and again (inside a string, between values). End-of-generation tokens are allowed
/// only where the grammar can end.
/// </summary>
public sealed class GrammarMatcher
{
    private const int MaxCachedMasks = 4096;

    private readonly GrammarAutomaton _automaton;
    private readonly TokenTrie _trie;
    private readonly Tokenizer _tokenizer;
    private readonly Dictionary<int, Mask> _masks = new();
    private readonly int[] _depthState = new int[257]; // [depth] automaton state after the trie path's first d bytes
    private int _state;

    public GrammarMatcher(GbnfGrammar grammar, Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _trie = TokenTrie.For(tokenizer);
        _automaton = new GrammarAutomaton(grammar);
        _state = _automaton.Start;
    }

    /// <summary>The output so far may end here (a complete sentence of the grammar).</summary>
    public bool CanEnd => _automaton.CanEnd(_state);

    /// <summary>Automaton states built so far (a measure of the work cached).</summary>
    public int StateCount => _automaton.StateCount;

    /// <summary>Advances past a generated token; false (and no change) when the grammar refuses its bytes.</summary>
    public bool Accept(int token)
    {
        if (_tokenizer.IsEndOfGeneration(token)) return CanEnd;
        int next = _automaton.Walk(_state, _tokenizer.TokenBytes(token));
        if (next == GrammarAutomaton.Dead) return false;
        SetState(next);
        return true;
    }

    /// <summary>Whether the grammar accepts these bytes next (the text so far plus them is still a valid prefix).</summary>
    public bool AcceptsPrefix(ReadOnlySpan<byte> bytes) => _automaton.Walk(_state, bytes) != GrammarAutomaton.Dead;

    /// <summary>Whether the grammar accepts <paramref name="text"/> as a whole sentence from the current state.</summary>
    public bool AcceptsComplete(string text)
    {
        int s = _automaton.Walk(_state, Encoding.UTF8.GetBytes(text));
        return s != GrammarAutomaton.Dead && _automaton.CanEnd(s);
    }

    /// <summary>Advances past raw text (e.g. a forced prefix); false (and no change) when the grammar refuses it.</summary>
    public bool AcceptText(string text)
    {
        int s = _automaton.Walk(_state, Encoding.UTF8.GetBytes(text));
        if (s == GrammarAutomaton.Dead) return false;
        SetState(s);
        return true;
    }

    /// <summary>
    /// The tokens allowed at this step, as a bit set over token ids ([ceil(vocab / 64)] words), how many there are,
    /// and one of them (the only one when the count is 1). Valid until the next <see cref="Accept"/>.
    /// </summary>
    public (ReadOnlyMemory<ulong> Bits, int Count, int Any) AllowedTokens()
    {
        var m = MaskOf(_state);
        return (m.Bits, m.Count, m.Any);
    }

    /// <summary>Sets the logits of every refused token to -infinity (<paramref name="logits"/> may be longer than the
    /// tokenizer's vocabulary: padding ids are refused too); returns how many remain, one of them (an end-of-generation
    /// token when the grammar can end), and whether only end-of-generation tokens remain.</summary>
    public (int Count, int Any, bool OnlyEnd) Apply(Span<float> logits)
    {
        var m = MaskOf(_state);
        var bits = m.Bits;
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
        return (m.Count, m.Any, m.Count > 0 && m.TextTokens == 0);
    }

    private void SetState(int next)
    {
        int trimmed = _automaton.Trim(next);
        if (trimmed != next) _masks.Clear();
        _state = trimmed;
    }

    private Mask MaskOf(int state)
    {
        if (_masks.TryGetValue(state, out var cached)) return cached;
        if (_masks.Count >= MaxCachedMasks) _masks.Clear();
        var mask = Compute(state);
        _masks[state] = mask;
        return mask;
    }

    private Mask Compute(int state)
    {
        var t = _trie;
        var bits = new ulong[(t.Vocab + 63) / 64];
        int count = 0, any = -1;
        var depthState = _depthState;
        depthState[0] = state;
        byte[] bytes = t.Bytes, depth = t.Depth;
        int[] end = t.SubtreeEnd, tokenStart = t.TokenStart, tokens = t.Tokens;
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
                any = id;
            }
            i++;
        }
        int textTokens = count;
        if (_automaton.CanEnd(state))
            foreach (int id in t.EndOfGeneration)
            {
                bits[id >> 6] |= 1UL << (id & 63);
                count++;
                any = id;
            }
        return new Mask(bits, count, any, textTokens);
    }

    private sealed record Mask(ulong[] Bits, int Count, int Any, int TextTokens);
}
