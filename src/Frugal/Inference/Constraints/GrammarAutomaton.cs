namespace Frugal.Inference.Constraints;

/// <summary>
/// The grammar run over UTF-8 bytes as a lazily built automaton. A parse state is a set of stacks (llama.cpp's
/// grammar stacks: positions into the flat element array, innermost first, each stack's top a character set);
/// stacks are interned, so a set of stacks is a sorted id list, and a set plus an unfinished UTF-8 character is
/// one automaton state with a 256-entry byte transition table filled on first use. Walking a token's bytes is then
/// a few array reads once the states it visits have been seen, which is what makes the per-step token mask cheap.
/// Not thread-safe: <see cref="GrammarTables"/> shares one between sequences under a lock.
/// </summary>
internal sealed class GrammarAutomaton
{
    public const int Dead = -1;
    private const int Unknown = -2;

    private readonly GbnfGrammar _g;

    // Interned stacks: id 0 is the empty stack (the grammar is complete); id k > 0 is (position, next id).
    private readonly List<(int Pos, int Next)> _stacks = [(-1, 0)];
    private readonly Dictionary<long, int> _stackIds = new(); // (pos << 32 | next) -> id: a long hashes faster than a tuple

    // Automaton states: a stack set (sorted stack ids) and a pending UTF-8 prefix.
    private readonly List<State> _states = [];
    // [states / 256][256 * 256] transition on each byte: a state id, Dead, or Unknown (not computed yet). Rows come in
    // blocks of 256 states, so growing never copies: a doubled flat table (16-64 MB at the octokit schemas' 4-16K
    // states) cost ~37 ms per resize, 12% of the corpus bench's mask time.
    private int[][] _blocks = [];
    private const int BlockShift = 8;
    private readonly Dictionary<StateKey, int> _stateIds = new();
    // (stack set id, which of its stacks accept a character) -> the state after it; one table, not one per set: a
    // dictionary per state was an allocation on each of the millions of states the corpus bench builds.
    private readonly Dictionary<(int, ulong), int> _advances = new();
    private int _sets;
    private readonly List<int> _scratch = [];
    private readonly HashSet<int> _seen = [];

    public GrammarAutomaton(GbnfGrammar grammar)
    {
        _g = grammar;
        Start = Initial();
    }

    public GbnfGrammar Grammar => _g;

    public int Start { get; }

    public int StateCount => _states.Count;

    /// <summary>The grammar may end here: some stack is empty and no UTF-8 character is half written.</summary>
    public bool CanEnd(int state) => _states[state].CanEnd;

    /// <summary>The state after one more byte, or <see cref="Dead"/>.</summary>
    public int Next(int state, byte b)
    {
        int t = _blocks[state >> BlockShift][((state & ((1 << BlockShift) - 1)) << 8) | b];
        return t != Unknown ? t : Fill(state, b);
    }

    private int Fill(int state, byte b)
    {
        int t = Compute(_states[state], b);
        _blocks[state >> BlockShift][((state & ((1 << BlockShift) - 1)) << 8) | b] = t;
        return t;
    }

    /// <summary>The state after these bytes, or <see cref="Dead"/>.</summary>
    public int Walk(int state, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            state = Next(state, b);
            if (state == Dead) return Dead;
        }
        return state;
    }

    private int Initial()
    {
        _scratch.Clear();
        _seen.Clear();
        bool canEnd = false;
        foreach (int start in _g.RuleAlternatives[_g.Root])
            canEnd |= Expand(Push(start, 0));
        return Intern(Sorted(), _sets++, canEnd, 0, 0, 0);
    }

    private int Compute(State s, byte b)
    {
        int value, remaining, total = s.Total;
        if (s.Remaining == 0)
        {
            if (b < 0x80) return Advance(s, b);
            if (b is >= 0xC2 and < 0xE0) { value = b & 0x1F; remaining = 1; total = 2; }
            else if (b is >= 0xE0 and < 0xF0) { value = b & 0x0F; remaining = 2; total = 3; }
            else if (b is >= 0xF0 and < 0xF5) { value = b & 0x07; remaining = 3; total = 4; }
            else return Dead; // continuation byte without a lead, or a byte UTF-8 never uses
        }
        else
        {
            if ((b & 0xC0) != 0x80) return Dead;
            value = (s.Partial << 6) | (b & 0x3F);
            remaining = s.Remaining - 1;
            if (remaining == 0)
            {
                // Overlong forms and surrogates are not characters.
                int bytes = total;
                if ((bytes == 3 && value < 0x800) || (bytes == 4 && (value < 0x10000 || value > 0x10FFFF)) || value is >= 0xD800 and <= 0xDFFF)
                    return Dead;
                return Advance(s, value);
            }
        }
        // Keep the half-written character only if some stack could still accept a character it completes to.
        int lo = value << (6 * remaining), hi = lo | ((1 << (6 * remaining)) - 1);
        lo = Math.Max(lo, total switch { 2 => 0x80, 3 => 0x800, _ => 0x10000 }); // shorter forms would be overlong
        hi = Math.Min(hi, CodepointSet.MaxCodepoint);
        if (lo > hi) return Dead;
        // Surrogates (U+D800..DFFF) are no characters: a prefix that can only complete to one (ED A0..BF) is a dead
        // end, though a set over codepoints may contain that range.
        foreach (int id in s.Stacks)
        {
            var set = _g.Sets[_g.Elements[_stacks[id].Pos].Index];
            if ((lo < 0xD800 && set.Intersects(lo, Math.Min(hi, 0xD7FF))) || (hi > 0xDFFF && set.Intersects(Math.Max(lo, 0xE000), hi)))
                return Intern(s.Stacks, s.SetId, false, value, remaining, total);
        }
        return Dead;
    }

    /// <summary>The answer of <see cref="AfterAny"/> when characters of the class move the state differently.</summary>
    public const int NotUniform = -3;

    /// <summary>The fewest code points a class needs before <see cref="UniformSet"/> offers it.</summary>
    public const int MinSliceClass = 16;

    /// <summary>
    /// The largest character set on top of one of the state's stacks that every stack's set holds all of or none of,
    /// or null. Every character of such a set C moves the same stacks, and <see cref="Advance"/>'s result depends on
    /// nothing else, so all of C leads to one state (<see cref="AfterAny"/>): what <see cref="TokenSlice"/> needs.
    /// </summary>
    public CodepointSet? UniformSet(int state)
    {
        var s = _states[state];
        if (s.Remaining != 0) return null;
        CodepointSet? best = null;
        // A class of a few characters (a literal's next one, a digit) prunes the trie walk at the first byte anyway,
        // and few tokens are made of it: a slice would cost a pass over the vocabulary for nothing.
        long bestSize = MinSliceClass - 1;
        foreach (int id in s.Stacks)
        {
            var c = SetOf(id);
            long size = c.Size;
            if (size > bestSize && c.FirstCharacter() >= 0 && IsUniform(s, c)) { best = c; bestSize = size; }
        }
        return best;
    }

    /// <summary>The state after any one character of <paramref name="chars"/> (the same for all of them), or
    /// <see cref="Dead"/>, or <see cref="NotUniform"/> when some stack holds part of the class and not all of it.
    /// Walking a character's UTF-8 bytes one by one ends in the same state (the pending states between are alive when
    /// the end is: a stack holding the character keeps them).</summary>
    public int AfterAny(int state, CodepointSet chars)
    {
        var s = _states[state];
        if (s.Remaining != 0 || !IsUniform(s, chars)) return NotUniform;
        return Advance(s, chars.FirstCharacter());
    }

    private bool IsUniform(State s, CodepointSet chars)
    {
        foreach (int id in s.Stacks)
        {
            var o = SetOf(id);
            if (!ReferenceEquals(o, chars) && !o.Covers(chars) && !o.IsDisjoint(chars)) return false;
        }
        return true;
    }

    private CodepointSet SetOf(int stack) => _g.Sets[_g.Elements[_stacks[stack].Pos].Index];

    /// <summary>Every stack whose top accepts <paramref name="cp"/> moves past it; the results are expanded to character sets.</summary>
    private int Advance(State s, int cp)
    {
        var stacks = s.Stacks;
        if (stacks.Length > 64) return AdvanceWhere(stacks, cp, 0);
        // The result depends only on which stacks accept cp: thousands of characters (every CJK character inside a
        // string) share one answer, computed once per stack set.
        ulong accepting = 0;
        for (int i = 0; i < stacks.Length; i++)
            if (_g.Sets[_g.Elements[_stacks[stacks[i]].Pos].Index].Contains(cp)) accepting |= 1UL << i;
        if (accepting == 0) return Dead;
        if (_advances.TryGetValue((s.SetId, accepting), out int known)) return known;
        int result = AdvanceWhere(stacks, cp, accepting);
        _advances[(s.SetId, accepting)] = result;
        return result;
    }

    /// <param name="accepting">bit i: stack i accepts <paramref name="cp"/>; 0 when there are more than 64 stacks
    /// (each is then asked).</param>
    private int AdvanceWhere(int[] stacks, int cp, ulong accepting)
    {
        _scratch.Clear();
        _seen.Clear();
        bool canEnd = false;
        for (int i = 0; i < stacks.Length; i++)
        {
            var (pos, next) = _stacks[stacks[i]];
            if (accepting != 0 ? (accepting >> i & 1) != 0 : _g.Sets[_g.Elements[pos].Index].Contains(cp))
                canEnd |= Expand(Push(pos + 1, next));
        }
        if (_scratch.Count == 0 && !canEnd) return Dead;
        return Intern(Sorted(), _sets++, canEnd, 0, 0, 0);
    }

    /// <summary>A stack with <paramref name="pos"/> on top of <paramref name="next"/>; an alternative's end is popped at once.</summary>
    private int Push(int pos, int next)
    {
        if (_g.Elements[pos].Kind == GbnfElementKind.End) return next;
        long key = (long)pos << 32 | (uint)next;
        if (_stackIds.TryGetValue(key, out int id)) return id;
        id = _stacks.Count;
        _stacks.Add((pos, next));
        _stackIds[key] = id;
        return id;
    }

    /// <summary>Expands rule references on top until each stack has a character set on top; true when one is empty.</summary>
    private bool Expand(int stack)
    {
        if (stack == 0) return true;
        if (!_seen.Add(stack)) return false;
        var (pos, next) = _stacks[stack];
        var e = _g.Elements[pos];
        if (e.Kind == GbnfElementKind.Chars)
        {
            _scratch.Add(stack);
            return false;
        }
        int rest = Push(pos + 1, next);
        bool canEnd = false;
        foreach (int start in _g.RuleAlternatives[e.Index])
            canEnd |= Expand(Push(start, rest));
        return canEnd;
    }

    private int[] Sorted()
    {
        var ids = _scratch.ToArray();
        Array.Sort(ids);
        return ids;
    }

    /// <param name="set">an id of the stack set: states that share the array (a set and its half-written characters)
    /// share it.</param>
    private int Intern(int[] stacks, int set, bool canEnd, int partial, int remaining, int total)
    {
        var key = new StateKey(stacks, canEnd, partial, remaining, total);
        if (_stateIds.TryGetValue(key, out int id)) return id;
        id = _states.Count;
        if (id >> BlockShift == _blocks.Length)
        {
            Array.Resize(ref _blocks, _blocks.Length + 1); // a few thousand references at most
            _blocks[^1] = GC.AllocateUninitializedArray<int>(256 << BlockShift); // each row is written whole by InitRow
        }
        _states.Add(new State(stacks, set, canEnd, partial, remaining, total));
        _stateIds[key] = id;
        InitRow(id, stacks, remaining);
        return id;
    }

    /// <summary>
    /// Writes a new state's row: the bytes that cannot come next are dead at once (any but a continuation byte while
    /// a character is half written, else any byte that starts no character of any stack's set), the rest unknown. A
    /// trie walk from a new state then asks the grammar only about the few first bytes that may live, not each of the
    /// root's ~250.
    /// </summary>
    private void InitRow(int state, int[] stacks, int remaining)
    {
        Span<ulong> lead = stackalloc ulong[4];
        if (remaining > 0) lead[2] = ulong.MaxValue; // 0x80..0xBF
        else
            foreach (int id in stacks)
            {
                var b = SetOf(id).LeadBytes;
                lead[0] |= b[0]; lead[1] |= b[1]; lead[2] |= b[2]; lead[3] |= b[3];
            }
        var block = _blocks[state >> BlockShift];
        int row = (state & ((1 << BlockShift) - 1)) << 8;
        for (int b = 0; b < 256; b++)
            block[row | b] = (lead[b >> 6] >> (b & 63) & 1) == 0 ? Dead : Unknown;
    }

    /// <param name="Total">byte length of the pending UTF-8 character (0 when none is pending).</param>
    private sealed record State(int[] Stacks, int SetId, bool CanEnd, int Partial, int Remaining, int Total);

    private readonly struct StateKey(int[] stacks, bool canEnd, int partial, int remaining, int total) : IEquatable<StateKey>
    {
        private readonly int[] _stacks = stacks;
        private readonly int _tag = (partial << 6) | (total << 3) | (remaining << 1) | (canEnd ? 1 : 0);

        public bool Equals(StateKey other) => _tag == other._tag && _stacks.AsSpan().SequenceEqual(other._stacks);

        public override bool Equals(object? obj) => obj is StateKey k && Equals(k);

        public override int GetHashCode()
        {
            var h = new HashCode();
            h.Add(_tag);
            foreach (int s in _stacks) h.Add(s);
            return h.ToHashCode();
        }
    }
}
