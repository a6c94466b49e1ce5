using Frugal.Numerics.Kernels;

namespace Frugal.Numerics.Attention;

/// <summary>
/// KIVI's asymmetric 2- and 4-bit codes for the KV cache ("KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV
/// Cache", Liu et al. 2024): keys per channel over the positions of a block (keys have outlier channels, so a scale
/// per channel fits them), values per position over groups of <see cref="ValueGroup"/> channels. Each group stores
/// an fp16 scale and an fp16 minimum; x ≈ code · scale + min with code in [0, 2^bits − 1]. A block still being filled
/// stays in f16 (<see cref="KiviResidual"/>) and is coded when its last position is written.
/// <para>Key segment (one KV head of one block): [headDim] fp16 scales, [headDim] fp16 minimums, then per 16-position
/// tile, per group of 8/bits channels, 16 bytes: byte j holds position j's codes of those channels, channel c of the
/// group in bits [c·bits, (c+1)·bits). So one 16-byte load widened to 16 lanes gives, shift by shift, one channel's 16
/// codes, as the attention tile wants them (keys dimension-major).</para>
/// <para>kivi2 key segments then keep <see cref="ExactKeys"/> entries exact (dense-and-sparse, KVQuant, Hooper et al.
/// 2024): [n] fp16 values, then [n] ushort indexes position·256 + channel (0xFFFF: unused), in position order. They are
/// the entries whose removal narrows their channel's min/max range the most, chosen greedily; the channel's scale and
/// minimum are fitted to the rest, and a reader overwrites the decoded entry with the exact one.</para>
/// <para>Value row (one position of one KV head): [groups] fp16 scales, [groups] fp16 minimums, then per run of 32
/// channels 32·bits/8 bytes: for 4 bits element e in byte e mod 16, nibble e / 16 (ggml's q4_0 order); for 2 bits in
/// byte e mod 8, bit pair e / 8; so uniform shifts of widened bytes give runs of consecutive elements.</para>
/// <para>Bytes per position per KV head: keys headDim·bits/8 + 4·headDim/blockSize (+ 2 for kivi2's exact entries), values headDim·bits/8 +
/// 4·headDim/<see cref="ValueGroup"/>; the residual adds blockSize·headDim·2 bytes per KIVI side per KV head per slot.</para>
/// </summary>
public static unsafe class KiviCodec
{
    /// <summary>Value channels whose codes are laid out as one run (the head size must be a multiple of it).</summary>
    public const int ValueRun = 32;

    /// <summary>
    /// Channels of one value group (one fp16 scale and minimum per position per group): 64 where the head size allows,
    /// else 32. KIVI uses 32; 64 saves 2 of every 12 value bytes of kivi2 (heads of 64: 20 bytes per position instead
    /// of 24), which is what brings 32 sequences of 2,000 tokens under kivi2, residual included, past 5x below f16
    /// (bench/kv-cache.md). The codes stay in runs of <see cref="ValueRun"/> channels either way.
    /// </summary>
    public static int ValueGroup(int headDim) => headDim % 64 == 0 ? 64 : ValueRun;

    /// <summary>Block size used when none is asked for: the scale and minimum cost 1 bit per key element at 32.</summary>
    public const int DefaultBlockSize = 32;

    /// <summary>Block sizes a KIVI store accepts: each a whole number of attention tiles, small enough for the residual.</summary>
    public static readonly int[] BlockSizes = [32, 64, 128];

    private const int T = KvTile.Positions;

    /// <summary>
    /// Entries of a key segment kept exact (fp16 value and a 2-byte index): half an entry per position for 2-bit keys,
    /// so 2 bytes per position per KV head (16 of a 32×32 block, 1.6%; 0.8% of a head of 64), none for 4-bit keys.
    /// Measured on the built-in model (bench/kv-cache.md): kivi2 recall 451/500 without them, 467 with them (f16 486).
    /// </summary>
    public static int ExactKeys(int bits, int blockSize) => bits == 2 ? blockSize / 2 : 0;

    /// <summary>Channels an exact entry's index can name (position·256 + channel in a ushort).</summary>
    public const int MaxExactKeyHeadDim = 256;

    private const ushort NoEntry = 0xFFFF;

    public static int KeySegmentBytes(int bits, int headDim, int blockSize) =>
        4 * headDim + blockSize * headDim * bits / 8 + 4 * ExactKeys(bits, blockSize);

    /// <summary>Where a key segment's exact entries start: after the scales, minimums and codes.</summary>
    public static int ExactKeysOffset(int bits, int headDim, int blockSize) => 4 * headDim + blockSize * headDim * bits / 8;

    public static int ValueRowBytes(int bits, int headDim) => 4 * (headDim / ValueGroup(headDim)) + headDim * bits / 8;

    /// <summary>
    /// The fp16 scale and minimum of a group spanning [lo, hi]: the minimum rounded down and the scale up, so every
    /// x in [lo, hi] lies in [min, min + levels·scale] and codes round to within half a scale.
    /// </summary>
    public static (Half Scale, Half Min) Fit(float lo, float hi, int bits)
    {
        int levels = (1 << bits) - 1;
        var min = (Half)lo;
        if ((float)min > lo) min = Half.BitDecrement(min);
        var scale = (Half)((hi - (float)min) / levels);
        if ((float)scale * levels < hi - (float)min) scale = Half.BitIncrement(scale);
        return (scale, min);
    }

    /// <summary>
    /// The fp16 scale and minimum for a value group <paramref name="x"/>: the min/max fit of
    /// <see cref="Fit(float, float, int)"/>, then a few Lloyd rounds (codes to the nearest level, then the
    /// least-squares scale and minimum for those codes), kept only while the squared error with the fp16-rounded pair
    /// drops. KIVI fits min/max; measured on the built-in model (bench/README.md, KIVI section) this fit for values
    /// and min/max for keys gives the lowest KL divergence from f16 of the four combinations, for kivi2 and kivi4.
    /// Least squares for keys lowers perplexity but raises the KL divergence: it clips the extremes that steer
    /// attention.
    /// </summary>
    public static (Half Scale, Half Min) Fit(ReadOnlySpan<float> x, int bits)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (float v in x)
        {
            lo = MathF.Min(lo, v);
            hi = MathF.Max(hi, v);
        }
        if (x.IsEmpty) lo = hi = 0;
        var best = Fit(lo, hi, bits);
        if (hi == lo) return best;
        double bestError = SquaredError(x, (float)best.Scale, (float)best.Min, bits);
        int levels = (1 << bits) - 1, n = x.Length;
        float scale = (hi - lo) / levels, min = lo;
        for (int round = 0; round < 4; round++)
        {
            double sc = 0, scc = 0, sx = 0, scx = 0;
            foreach (float v in x)
            {
                int c = Code(v, scale, min, bits);
                sc += c;
                scc += c * c;
                sx += v;
                scx += c * v;
            }
            double det = n * scc - sc * sc;
            if (det <= 0) break;
            double s = (n * scx - sc * sx) / det;
            if (!(s > 0)) break;
            scale = (float)s;
            min = (float)((sx - s * sc) / n);
            var candidate = ((Half)scale, (Half)min);
            double error = SquaredError(x, (float)candidate.Item1, (float)candidate.Item2, bits);
            if (error >= bestError) break;
            best = candidate;
            bestError = error;
        }
        return best;
    }

    private static double SquaredError(ReadOnlySpan<float> x, float scale, float min, int bits)
    {
        double e = 0;
        foreach (float v in x)
        {
            double d = v - (Code(v, scale, min, bits) * scale + min);
            e += d * d;
        }
        return e;
    }

    public static int Code(float x, float scale, float min, int bits)
    {
        if (scale == 0) return 0;
        return Math.Clamp((int)MathF.Round((x - min) / scale), 0, (1 << bits) - 1);
    }

    /// <summary>
    /// Codes one KV head's keys of a block from f16 tiles [tile][headDim][16] (the residual, keys as the model computed
    /// them), first moved into <paramref name="basis"/> (RoPE undone at the block's positions from
    /// <paramref name="firstPosition"/>, then rotated); only positions below <paramref name="valid"/> count.
    /// </summary>
    public static void EncodeKeys(int bits, int headDim, int blockSize, Half* residual, int valid, byte* segment, KiviKeyBasis basis, int firstPosition)
    {
        var scales = (Half*)segment;
        var mins = scales + headDim;
        byte* codes = segment + 4 * headDim;
        int perGroup = 8 / bits, tileBytes = headDim * 2 * bits, tiles = (valid + T - 1) / T;
        new Span<byte>(codes, blockSize * headDim * bits / 8).Clear();
        var keys = KeyScratch(tiles * headDim * T);   // [tile][headDim][16] in the stored basis
        fixed (float* k = keys)
            for (int t = 0; t < tiles; t++)
            {
                HalfConversion.ToSingle(residual + t * headDim * T, k + t * headDim * T, headDim * T);
                basis.ToStored(k + t * headDim * T, firstPosition + t * T);
            }
        int exact = ExactKeys(bits, blockSize);
        var kept = KeptScratch(blockSize * headDim);   // [p·headDim + d]: entry kept exact
        Array.Clear(kept, 0, blockSize * headDim);
        if (exact > 0) ChooseExact(keys, valid, headDim, exact, kept, segment + ExactKeysOffset(bits, headDim, blockSize));
        for (int d = 0; d < headDim; d++)
        {
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            for (int p = 0; p < valid; p++)
            {
                if (kept[p * headDim + d]) continue;
                float x = keys[(p / T) * headDim * T + d * T + p % T];
                lo = MathF.Min(lo, x);
                hi = MathF.Max(hi, x);
            }
            if (float.IsInfinity(lo)) lo = hi = 0;
            var (scale, min) = Fit(lo, hi, bits);   // min/max, as KIVI: a key's extremes steer attention (see Fit(ReadOnlySpan))
            scales[d] = scale;
            mins[d] = min;
            int shift = d % perGroup * bits;
            for (int p = 0; p < valid; p++)
                codes[p / T * tileBytes + d / perGroup * T + p % T] |= (byte)(Code(keys[(p / T) * headDim * T + d * T + p % T], (float)scale, (float)min, bits) << shift);
        }
    }

    /// <summary>
    /// Picks <paramref name="count"/> entries to keep exact, one at a time: of every channel's lowest and highest
    /// remaining entry, the one whose removal shrinks its channel's squared range the most (the rounding error of a
    /// channel's codes grows with it); writes them, in position order, to <paramref name="entries"/> (unused: 0xFFFF).
    /// </summary>
    private static void ChooseExact(float[] keys, int valid, int headDim, int count, bool[] kept, byte* entries)
    {
        var values = (Half*)entries;
        var index = (ushort*)(values + count);
        // Per channel: the lowest and highest remaining entries and the runners-up, refreshed for the channel picked.
        Span<int> low = stackalloc int[headDim], high = stackalloc int[headDim];
        Span<double> gain = stackalloc double[headDim];
        Span<bool> takesLow = stackalloc bool[headDim];
        for (int d = 0; d < headDim; d++) Extremes(keys, valid, headDim, d, kept, out low[d], out high[d], out gain[d], out takesLow[d]);
        Span<int> chosen = stackalloc int[count];
        int n = 0;
        for (; n < count; n++)
        {
            int best = -1;
            for (int d = 0; d < headDim; d++)
                if (gain[d] > 0 && (best < 0 || gain[d] > gain[best])) best = d;
            if (best < 0) break;
            int p = takesLow[best] ? low[best] : high[best];
            kept[p * headDim + best] = true;
            chosen[n] = p * MaxExactKeyHeadDim + best;
            Extremes(keys, valid, headDim, best, kept, out low[best], out high[best], out gain[best], out takesLow[best]);
        }
        chosen[..n].Sort();
        for (int e = 0; e < count; e++)
        {
            if (e < n)
            {
                int p = chosen[e] / MaxExactKeyHeadDim, d = chosen[e] % MaxExactKeyHeadDim;
                values[e] = (Half)keys[(p / T) * headDim * T + d * T + p % T];
                index[e] = (ushort)chosen[e];
            }
            else
            {
                values[e] = default;
                index[e] = NoEntry;
            }
        }
    }

    /// <summary>A channel's lowest and highest entries not kept, and what dropping the better of the two saves of its squared range.</summary>
    private static void Extremes(float[] keys, int valid, int headDim, int d, bool[] kept, out int low, out int high, out double gain, out bool takesLow)
    {
        float lo = float.PositiveInfinity, lo2 = float.PositiveInfinity, hi = float.NegativeInfinity, hi2 = float.NegativeInfinity;
        low = high = -1;
        for (int p = 0; p < valid; p++)
        {
            if (kept[p * headDim + d]) continue;
            float x = keys[(p / T) * headDim * T + d * T + p % T];
            if (x < lo) { lo2 = lo; lo = x; low = p; }
            else if (x < lo2) lo2 = x;
            if (x > hi) { hi2 = hi; hi = x; high = p; }
            else if (x > hi2) hi2 = x;
        }
        gain = 0;
        takesLow = false;
        if (float.IsInfinity(lo2) || float.IsInfinity(hi2)) return;   // fewer than two entries left
        double range = hi - lo, withoutLow = hi - lo2, withoutHigh = hi2 - lo;
        double gainLow = range * range - withoutLow * withoutLow, gainHigh = range * range - withoutHigh * withoutHigh;
        takesLow = gainLow >= gainHigh;
        gain = Math.Max(gainLow, gainHigh);
    }

    [ThreadStatic] private static bool[]? _keptScratch;

    private static bool[] KeptScratch(int entries)
    {
        if (_keptScratch is null || _keptScratch.Length < entries) _keptScratch = new bool[entries];
        return _keptScratch;
    }

    [ThreadStatic] private static float[]? _keyScratch;

    private static float[] KeyScratch(int floats)
    {
        if (_keyScratch is null || _keyScratch.Length < floats) _keyScratch = new float[floats];
        return _keyScratch;
    }

    /// <summary>Codes one value row [headDim] (f16, from the residual) into <paramref name="row"/>.</summary>
    public static void EncodeValueRow(int bits, int headDim, Half* src, byte* row)
    {
        int group = ValueGroup(headDim), groups = headDim / group, runBytes = ValueRun * bits / 8;
        var scales = (Half*)row;
        var mins = scales + groups;
        byte* codes = row + 4 * groups;
        new Span<byte>(codes, headDim * bits / 8).Clear();
        Span<float> x = stackalloc float[group];
        for (int g = 0; g < groups; g++)
        {
            for (int e = 0; e < group; e++) x[e] = (float)src[g * group + e];
            var (scale, min) = Fit(x, bits);
            scales[g] = scale;
            mins[g] = min;
            for (int e = 0; e < group; e++)
            {
                int d = g * group + e, r = d % ValueRun;
                codes[d / ValueRun * runBytes + r % runBytes] |= (byte)(Code(x[e], (float)scale, (float)min, bits) << (r / runBytes * bits));
            }
        }
    }

    /// <summary>
    /// The scalar twin: the key of position <paramref name="p"/> of a coded segment as the model computed it, decoded
    /// element by element and moved out of <paramref name="basis"/> at sequence position <paramref name="position"/>.
    /// </summary>
    public static void KeyRow(int bits, int headDim, int blockSize, byte* segment, int p, KiviKeyBasis basis, int position, Span<float> key)
    {
        var scales = (Half*)segment;
        int perGroup = 8 / bits;
        for (int d = 0; d < headDim; d++)
        {
            byte b = segment[4 * headDim + p / T * headDim * 2 * bits + d / perGroup * T + p % T];
            int code = (b >> (d % perGroup * bits)) & ((1 << bits) - 1);
            key[d] = code * (float)scales[d] + (float)scales[headDim + d];
        }
        int exact = ExactKeys(bits, blockSize);
        var values = (Half*)(segment + ExactKeysOffset(bits, headDim, blockSize));
        var index = (ushort*)(values + exact);
        for (int e = 0; e < exact; e++)
            if (index[e] != NoEntry && index[e] / MaxExactKeyHeadDim == p) key[index[e] % MaxExactKeyHeadDim] = (float)values[e];
        basis.ToModelRow(key, position);
    }

    /// <summary>The scalar twin: element <paramref name="d"/> of a coded value row.</summary>
    public static float ValueAt(int bits, int headDim, byte* row, int d)
    {
        int groups = headDim / ValueGroup(headDim), runBytes = ValueRun * bits / 8, g = d / ValueGroup(headDim), r = d % ValueRun;
        var scales = (Half*)row;
        int code = (row[4 * groups + d / ValueRun * runBytes + r % runBytes] >> (r / runBytes * bits)) & ((1 << bits) - 1);
        return code * (float)scales[g] + (float)scales[groups + g];
    }
}
