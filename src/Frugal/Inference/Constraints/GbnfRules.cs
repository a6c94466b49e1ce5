namespace Frugal.Inference.Constraints;

internal enum GbnfElementKind : byte
{
    /// <summary>End of an alternative.</summary>
    End,

    /// <summary>One code point from a set of ranges.</summary>
    Chars,

    /// <summary>A reference to another rule.</summary>
    Rule,
}

/// <summary>One element of an alternative: a character set (index into the set table) or a rule reference.</summary>
internal readonly record struct GbnfElement(GbnfElementKind Kind, int Index)
{
    public static GbnfElement End => new(GbnfElementKind.End, 0);
}

/// <summary>A set of code points as sorted, disjoint inclusive ranges [lo0, hi0, lo1, hi1, ...].</summary>
internal sealed class CodepointSet
{
    public const int MaxCodepoint = 0x10FFFF;

    private readonly int[] _ranges;

    private CodepointSet(int[] ranges) => _ranges = ranges;

    public static CodepointSet Of(IEnumerable<(int Lo, int Hi)> ranges, bool negated)
    {
        var sorted = ranges.Where(r => r.Lo <= r.Hi).OrderBy(r => r.Lo).ToList();
        var merged = new List<(int Lo, int Hi)>();
        foreach (var r in sorted)
        {
            if (merged.Count > 0 && r.Lo <= merged[^1].Hi + 1)
                merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, r.Hi));
            else merged.Add(r);
        }
        if (negated)
        {
            var inverted = new List<(int Lo, int Hi)>();
            int next = 0;
            foreach (var r in merged)
            {
                if (r.Lo > next) inverted.Add((next, r.Lo - 1));
                next = r.Hi + 1;
            }
            if (next <= MaxCodepoint) inverted.Add((next, MaxCodepoint));
            merged = inverted;
        }
        var flat = new int[merged.Count * 2];
        for (int i = 0; i < merged.Count; i++) { flat[2 * i] = merged[i].Lo; flat[2 * i + 1] = merged[i].Hi; }
        return new CodepointSet(flat);
    }

    public bool Contains(int cp)
    {
        var r = _ranges;
        for (int i = 0; i < r.Length; i += 2)
        {
            if (cp < r[i]) return false;
            if (cp <= r[i + 1]) return true;
        }
        return false;
    }

    /// <summary>Whether every code point of <paramref name="other"/> is in this set.</summary>
    public bool Covers(CodepointSet other)
    {
        var o = other._ranges;
        for (int i = 0; i < o.Length; i += 2)
            if (!CoversRange(o[i], o[i + 1])) return false;
        return true;
    }

    /// <summary>Whether every code point in [lo, hi] is in this set.</summary>
    public bool CoversRange(int lo, int hi)
    {
        var r = _ranges;
        for (int i = 0; i < r.Length; i += 2)
            if (r[i] <= lo && hi <= r[i + 1]) return true; // ranges are merged, so one range must hold it all
        return false;
    }

    /// <summary>Whether the two sets share no code point.</summary>
    public bool IsDisjoint(CodepointSet other)
    {
        var o = other._ranges;
        for (int i = 0; i < o.Length; i += 2)
            if (Intersects(o[i], o[i + 1])) return false;
        return true;
    }

    /// <summary>The set's lowest code point that is a character (not a surrogate), or -1 when it holds none.</summary>
    public int FirstCharacter()
    {
        var r = _ranges;
        for (int i = 0; i < r.Length; i += 2)
        {
            if (r[i] is < 0xD800 or > 0xDFFF) return r[i];
            if (r[i + 1] > 0xDFFF) return 0xE000;
        }
        return -1;
    }

    /// <summary>[4] bit b: some code point of the set starts with byte b in UTF-8 (a superset for ranges that a lead
    /// byte only partly covers), so every other first byte is refused without asking the grammar.</summary>
    public ulong[] LeadBytes => _leadBytes ??= ComputeLeadBytes();

    private ulong[]? _leadBytes;

    private ulong[] ComputeLeadBytes()
    {
        var bits = new ulong[4];
        var r = _ranges;
        for (int i = 0; i < r.Length; i += 2)
        {
            AddLeads(bits, r[i], r[i + 1], 0, 0x7F, cp => cp);
            AddLeads(bits, r[i], r[i + 1], 0x80, 0x7FF, cp => 0xC0 | (cp >> 6));
            AddLeads(bits, r[i], r[i + 1], 0x800, 0xFFFF, cp => 0xE0 | (cp >> 12));
            AddLeads(bits, r[i], r[i + 1], 0x10000, MaxCodepoint, cp => 0xF0 | (cp >> 18));
        }
        return bits;
    }

    private static void AddLeads(ulong[] bits, int lo, int hi, int from, int to, Func<int, int> lead)
    {
        lo = Math.Max(lo, from);
        hi = Math.Min(hi, to);
        if (lo > hi) return;
        for (int b = lead(lo); b <= lead(hi); b++) bits[b >> 6] |= 1UL << (b & 63);
    }

    /// <summary>How many code points the set holds.</summary>
    public long Size
    {
        get
        {
            long n = 0;
            for (int i = 0; i < _ranges.Length; i += 2) n += _ranges[i + 1] - _ranges[i] + 1;
            return n;
        }
    }

    /// <summary>The ranges as text ("lo-hi,lo-hi"): equal sets of different grammars have equal keys.</summary>
    public string Key => _key ??= string.Join(',', Enumerable.Range(0, _ranges.Length / 2).Select(i => $"{_ranges[2 * i]:X}-{_ranges[2 * i + 1]:X}"));

    private string? _key;

    /// <summary>Whether any code point in [lo, hi] is in the set (a partial UTF-8 character could still complete into it).</summary>
    public bool Intersects(int lo, int hi)
    {
        var r = _ranges;
        for (int i = 0; i < r.Length; i += 2)
            if (r[i] <= hi && lo <= r[i + 1]) return true;
        return false;
    }

    /// <summary>A random code point of the set (not a surrogate): printable ASCII nine times in ten when the set has
    /// some, else any range and any point in it.</summary>
    public int Pick(Random rng)
    {
        var r = _ranges;
        if (rng.Next(10) != 0)
        {
            Span<int> ascii = stackalloc int[95];
            int n = 0;
            for (int cp = 0x20; cp < 0x7F; cp++)
                if (Contains(cp)) ascii[n++] = cp;
            if (n > 0) return ascii[rng.Next(n)];
        }
        for (int attempt = 0; attempt < 64; attempt++)
        {
            int k = rng.Next(r.Length / 2);
            int cp = r[2 * k] + (int)(rng.NextInt64((long)r[2 * k + 1] - r[2 * k] + 1));
            if (cp is < 0xD800 or > 0xDFFF) return cp;
        }
        throw new InvalidOperationException("the character set holds only surrogates");
    }
}
