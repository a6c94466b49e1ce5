using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Frugal.Numerics.Ops;

namespace Frugal.Numerics.Attention;

/// <summary>
/// The basis KIVI codes keys in: RoPE undone (KVQuant's pre-RoPE keys, Hooper et al. 2024) and then a Walsh-Hadamard
/// rotation (QuaRot). KIVI quantizes keys per channel over a block of positions; after RoPE, a channel of a fast
/// rotating pair sweeps its whole circle within a block, so its range is set by the rotation rather than by the keys.
/// Before RoPE a channel holds what the key says, steady over positions; the rotation then spreads a few large channels
/// over the head. Stored: k̃ = H·R(p)ᵀ·k; read: k = R(p)·H·k̃ (H = H/√w, its own inverse; R(p) the RoPE rotation).
/// Measured on the built-in model (bench/kv-cache.md): 2-bit keys, recall of a key 400+ tokens back 161/200 with
/// post-RoPE keys, 182/200 in this basis (f16: 193/200).
/// <para>The rotation runs over each run of <see cref="HadamardWidth"/> channels (the largest power of two dividing the
/// head size). The RoPE angles come from one table for both directions, so writing and reading are exact inverses up
/// to float rounding whatever the model's own angle arithmetic: cos/sin of a tile's first position per pair
/// (<c>[tiles][pairs]</c>), and of the 16 offsets inside a tile per pair, combined by the angle-sum rule.</para>
/// </summary>
public sealed unsafe class KiviKeyBasis
{
    private const int T = KvTile.Positions;
    private readonly int _headDim;
    private readonly RopeStyle _style;
    private readonly int _pairs;            // RoPE pairs undone (rope dims / 2); 0 when the keys carry no RoPE
    private readonly float[] _start;        // [tiles][pairs][2]: cos, sin of the tile's first position, times 1/√w
    private readonly float[] _step;         // [pairs][2][16]: cos, sin of offsets 0..15
    private readonly float _norm;           // 1/√w for channels RoPE leaves alone

    /// <param name="positions">positions a sequence can reach in this store (its blocks × block size).</param>
    public KiviKeyBasis(int headDim, int positions, RopeSpec? rope = null)
    {
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, "a head size must be positive and even");
        if (positions <= 0) throw new ArgumentOutOfRangeException(nameof(positions), positions, "a store holds at least one position");
        _headDim = headDim;
        HadamardWidth = headDim & -headDim;
        _norm = 1f / MathF.Sqrt(HadamardWidth);
        Tiles = (positions + T - 1) / T;
        if (rope is { } r)
        {
            if (r.Dims <= 0 || r.Dims % 2 != 0 || r.Dims > headDim)
                throw new ArgumentOutOfRangeException(nameof(rope), r.Dims, $"RoPE dimensions must be even and within the head size {headDim}");
            _style = r.Style;
            _pairs = r.Dims / 2;
        }
        _start = new float[Tiles * _pairs * 2];
        _step = new float[_pairs * 2 * T];
        if (rope is not { } spec) return;
        // theta_i = freqScale · base^(-2i/dims) / factor_i (YaRN-blended), as Rope.Angles; in double here, since only
        // this table's two directions need to agree with each other. The magnitude stays in the keys: only the turn is undone.
        for (int i = 0; i < _pairs; i++)
        {
            double theta = Rope.Frequency(spec, i);
            for (int j = 0; j < T; j++)
            {
                _step[(i * 2) * T + j] = (float)Math.Cos(j * theta);
                _step[(i * 2 + 1) * T + j] = (float)Math.Sin(j * theta);
            }
            for (int t = 0; t < Tiles; t++)
            {
                double angle = (double)t * T * theta;
                _start[(t * _pairs + i) * 2] = (float)(Math.Cos(angle) * _norm);
                _start[(t * _pairs + i) * 2 + 1] = (float)(Math.Sin(angle) * _norm);
            }
        }
    }

    /// <summary>Channels each Walsh-Hadamard rotation mixes: the largest power of two dividing the head size.</summary>
    public int HadamardWidth { get; }

    /// <summary>16-position tiles the angle table covers.</summary>
    public int Tiles { get; }

    /// <summary>Whether RoPE is undone (false: the rotation alone, for keys that carry no position).</summary>
    public bool UndoesRope => _pairs > 0;

    /// <summary>A key tile kt[d·16 + j] as the model computed it (after RoPE) into the stored basis, in place.</summary>
    public void ToStored(float* kt, int firstPosition)
    {
        RopeInRegisters(kt, TileOf(firstPosition), inverse: true);
        ScaleUnrotated(kt);
        HadamardInRegisters(kt);
    }

    /// <summary>A decoded key tile kt[d·16 + j] from the stored basis back to the model's keys, in place.</summary>
    public void ToModel(float* kt, int firstPosition)
    {
        int tile = TileOf(firstPosition);
        HadamardInRegisters(kt);
        RopeInRegisters(kt, tile, inverse: false);
        ScaleUnrotated(kt);
    }

    /// <summary>The scalar twin of <see cref="ToModel"/> for one key row [headDim] at <paramref name="position"/> (the oracle's).</summary>
    public void ToModelRow(Span<float> key, int position)
    {
        if (key.Length < _headDim) throw new ArgumentException($"a key holds {_headDim} floats", nameof(key));
        for (int o = 0; o < _headDim; o += HadamardWidth)
            WalshHadamard.Transform(key.Slice(o, HadamardWidth));   // normalized: RoPE below then uses unscaled angles
        int tile = TileOf(position - position % T), j = position % T;
        for (int i = 0; i < _pairs; i++)
        {
            float c0 = _start[(tile * _pairs + i) * 2] / _norm, s0 = _start[(tile * _pairs + i) * 2 + 1] / _norm;
            float cj = _step[(i * 2) * T + j], sj = _step[(i * 2 + 1) * T + j];
            float c = c0 * cj - s0 * sj, s = s0 * cj + c0 * sj;
            var (a, b) = Pair(i);
            float x = key[a], y = key[b];
            key[a] = x * c - y * s;
            key[b] = x * s + y * c;
        }
    }

    private int TileOf(int firstPosition)
    {
        int tile = firstPosition / T;
        if ((uint)tile >= (uint)Tiles)
            throw new ArgumentOutOfRangeException(nameof(firstPosition), firstPosition, $"the key basis covers positions [0, {Tiles * T})");
        return tile;
    }

    private (int A, int B) Pair(int i) => _style == RopeStyle.Normal ? (2 * i, 2 * i + 1) : (i, i + _pairs);

    /// <summary>
    /// Whether a tile row (16 floats) is one vector here; otherwise every register form below runs twice, on the two
    /// 8-lane halves of each row (AVX2, or Vector256 in software where there is none: the same arithmetic per lane).
    /// </summary>
    private static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>The 1/√w of the rotation for the channels RoPE leaves alone (the rotated pairs take it in their angles).</summary>
    private void ScaleUnrotated(float* kt)
    {
        for (int d = 2 * _pairs; d < _headDim; d++)
            for (int k = 0; k < T; k += Vector256<float>.Count)
                (Vector256.Load(kt + d * T + k) * _norm).Store(kt + d * T + k);
    }

    /// <summary>
    /// Unnormalized Walsh-Hadamard butterflies over channels, 16 lanes (positions) at a time, within each run of w
    /// channels, with the stages taken three at a time in 8 registers: the stages commute, so each pass loads 8 rows,
    /// runs its stages and stores them, and the rows go through memory once per three stages instead of once per stage
    /// (6 stages of a 64-wide head: 2 passes). Reading keys is on the decode path; this is most of its cost.
    /// </summary>
    private void HadamardInRegisters(float* kt)
    {
        int w = HadamardWidth, stages = BitOperations.Log2((uint)w);
        for (int a = 0; a < stages; a += 3)
        {
            int len = Math.Min(3, stages - a), span = 1 << (a + len), stride = (1 << a) * T;
            for (int o = 0; o < _headDim; o += w)
                for (int hi = 0; hi < w; hi += span)
                    for (int lo = 0; lo < 1 << a; lo++)
                    {
                        float* r = kt + (o + hi + lo) * T;
                        if (Wide)
                        {
                            if (len == 3) Pass3Wide(r, stride);
                            else if (len == 2) Pass2Wide(r, stride);
                            else ButterflyWide(r, r + stride);
                            continue;
                        }
                        for (int half = 0; half < T; half += Vector256<float>.Count)
                            if (len == 3) Pass3(r + half, stride);
                            else if (len == 2) Pass2(r + half, stride);
                            else Butterfly(r + half, r + half + stride);
                    }
        }
    }

    /// <summary>
    /// RoPE at the tile's 16 positions (angles times 1/√w), each pair's cos/sin built from the tile's start and the 16
    /// offsets by the angle-sum rule and applied in registers; <paramref name="inverse"/> turns by the negated angles
    /// (writing keys), so both directions use the same table.
    /// </summary>
    private void RopeInRegisters(float* kt, int tile, bool inverse)
    {
        fixed (float* start = _start, step = _step)
        {
            float* cs = start + tile * _pairs * 2;
            for (int i = 0; i < _pairs; i++)
            {
                float c0 = cs[2 * i], s0 = cs[2 * i + 1];
                var (a, b) = Pair(i);
                float* x = kt + a * T, y = kt + b * T, cj = step + (i * 2) * T, sj = cj + T;
                if (Wide)
                {
                    Turn(Vector512.Load(cj), Vector512.Load(sj), c0, s0, x, y, inverse);
                    continue;
                }
                for (int k = 0; k < T; k += Vector256<float>.Count)
                    Turn(Vector256.Load(cj + k), Vector256.Load(sj + k), c0, s0, x + k, y + k, inverse);
            }
        }
    }

    /// <summary>(x, y) ← (x·c − y·s, x·s + y·c) at angle start + offset (c, s by the angle-sum rule), or by its negation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Turn(Vector512<float> cj, Vector512<float> sj, float c0, float s0, float* x, float* y, bool inverse)
    {
        var c = cj * c0 - sj * s0;
        var sn = sj * c0 + cj * s0;
        var vx = Vector512.Load(x);
        var vy = Vector512.Load(y);
        if (inverse)
        {
            (vx * c + vy * sn).Store(x);
            (vy * c - vx * sn).Store(y);
        }
        else
        {
            (vx * c - vy * sn).Store(x);
            (vx * sn + vy * c).Store(y);
        }
    }

    /// <inheritdoc cref="Turn(Vector512{float}, Vector512{float}, float, float, float*, float*, bool)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Turn(Vector256<float> cj, Vector256<float> sj, float c0, float s0, float* x, float* y, bool inverse)
    {
        var c = cj * c0 - sj * s0;
        var sn = sj * c0 + cj * s0;
        var vx = Vector256.Load(x);
        var vy = Vector256.Load(y);
        if (inverse)
        {
            (vx * c + vy * sn).Store(x);
            (vy * c - vx * sn).Store(y);
        }
        else
        {
            (vx * c - vy * sn).Store(x);
            (vx * sn + vy * c).Store(y);
        }
    }

    /// <summary>Three butterfly stages over rows r, r + stride, …, r + 7·stride, 16 lanes each, in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass3Wide(float* r, int stride)
    {
        var r0 = Vector512.Load(r);
        var r1 = Vector512.Load(r + stride);
        var r2 = Vector512.Load(r + 2 * stride);
        var r3 = Vector512.Load(r + 3 * stride);
        var r4 = Vector512.Load(r + 4 * stride);
        var r5 = Vector512.Load(r + 5 * stride);
        var r6 = Vector512.Load(r + 6 * stride);
        var r7 = Vector512.Load(r + 7 * stride);
        (r0, r1) = (r0 + r1, r0 - r1);
        (r2, r3) = (r2 + r3, r2 - r3);
        (r4, r5) = (r4 + r5, r4 - r5);
        (r6, r7) = (r6 + r7, r6 - r7);
        (r0, r2) = (r0 + r2, r0 - r2);
        (r1, r3) = (r1 + r3, r1 - r3);
        (r4, r6) = (r4 + r6, r4 - r6);
        (r5, r7) = (r5 + r7, r5 - r7);
        (r0 + r4).Store(r);
        (r1 + r5).Store(r + stride);
        (r2 + r6).Store(r + 2 * stride);
        (r3 + r7).Store(r + 3 * stride);
        (r0 - r4).Store(r + 4 * stride);
        (r1 - r5).Store(r + 5 * stride);
        (r2 - r6).Store(r + 6 * stride);
        (r3 - r7).Store(r + 7 * stride);
    }

    /// <summary><see cref="Pass3Wide"/> on 8 lanes (one half of each row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass3(float* r, int stride)
    {
        var r0 = Vector256.Load(r);
        var r1 = Vector256.Load(r + stride);
        var r2 = Vector256.Load(r + 2 * stride);
        var r3 = Vector256.Load(r + 3 * stride);
        var r4 = Vector256.Load(r + 4 * stride);
        var r5 = Vector256.Load(r + 5 * stride);
        var r6 = Vector256.Load(r + 6 * stride);
        var r7 = Vector256.Load(r + 7 * stride);
        (r0, r1) = (r0 + r1, r0 - r1);
        (r2, r3) = (r2 + r3, r2 - r3);
        (r4, r5) = (r4 + r5, r4 - r5);
        (r6, r7) = (r6 + r7, r6 - r7);
        (r0, r2) = (r0 + r2, r0 - r2);
        (r1, r3) = (r1 + r3, r1 - r3);
        (r4, r6) = (r4 + r6, r4 - r6);
        (r5, r7) = (r5 + r7, r5 - r7);
        (r0 + r4).Store(r);
        (r1 + r5).Store(r + stride);
        (r2 + r6).Store(r + 2 * stride);
        (r3 + r7).Store(r + 3 * stride);
        (r0 - r4).Store(r + 4 * stride);
        (r1 - r5).Store(r + 5 * stride);
        (r2 - r6).Store(r + 6 * stride);
        (r3 - r7).Store(r + 7 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass2Wide(float* r, int stride)
    {
        var r0 = Vector512.Load(r);
        var r1 = Vector512.Load(r + stride);
        var r2 = Vector512.Load(r + 2 * stride);
        var r3 = Vector512.Load(r + 3 * stride);
        (r0, r1) = (r0 + r1, r0 - r1);
        (r2, r3) = (r2 + r3, r2 - r3);
        (r0 + r2).Store(r);
        (r1 + r3).Store(r + stride);
        (r0 - r2).Store(r + 2 * stride);
        (r1 - r3).Store(r + 3 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass2(float* r, int stride)
    {
        var r0 = Vector256.Load(r);
        var r1 = Vector256.Load(r + stride);
        var r2 = Vector256.Load(r + 2 * stride);
        var r3 = Vector256.Load(r + 3 * stride);
        (r0, r1) = (r0 + r1, r0 - r1);
        (r2, r3) = (r2 + r3, r2 - r3);
        (r0 + r2).Store(r);
        (r1 + r3).Store(r + stride);
        (r0 - r2).Store(r + 2 * stride);
        (r1 - r3).Store(r + 3 * stride);
    }

    /// <summary>(a, b) ← (a + b, a − b) over 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ButterflyWide(float* a, float* b)
    {
        var va = Vector512.Load(a);
        var vb = Vector512.Load(b);
        (va + vb).Store(a);
        (va - vb).Store(b);
    }

    /// <summary>(a, b) ← (a + b, a − b) over 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Butterfly(float* a, float* b)
    {
        var va = Vector256.Load(a);
        var vb = Vector256.Load(b);
        (va + vb).Store(a);
        (va - vb).Store(b);
    }
}
