using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Frugal.Numerics.Kernels;

namespace Frugal.Numerics.Attention;

/// <summary>
/// Reads KIVI-coded tiles (<see cref="KiviCodec"/>) back as floats inside the attention tile loop: 16 code bytes
/// widened to 16 int lanes, then per channel (keys) or per run of elements (values) a shift, a mask, a convert and one
/// fused multiply-add with the group's scale and minimum. AVX-512 and AVX2 paths, and a scalar one for the rest;
/// <see cref="KiviCodec.KeyRow"/> / <see cref="KiviCodec.ValueAt"/> are the twins the oracle reads with. Keys come out in
/// the stored basis (<see cref="KiviKeyBasis"/>); <see cref="KvTile"/> moves them back.
/// </summary>
internal static unsafe class KiviTile
{
    private const int T = KvTile.Positions;
    private const float Rebias = 5.192296858534828e33f; // 2^112, as HalfConversion

    /// <summary>kt[d·16 + j] = element d of key j of tile <paramref name="tile"/> of a coded key segment, its exact entries included.</summary>
    public static void LoadKeys(int bits, byte* segment, int tile, int hd, int blockSize, float* kt)
    {
        LoadKeyCodes(bits, segment, tile, hd, kt);
        int exact = KiviCodec.ExactKeys(bits, blockSize);
        if (exact > 0) PatchExactKeys(segment + KiviCodec.ExactKeysOffset(bits, hd, blockSize), exact, tile, kt);
    }

    /// <summary>Overwrites the decoded keys kt[d·16 + j] of tile <paramref name="tile"/> with the segment's exact entries in it.</summary>
    private static void PatchExactKeys(byte* entries, int count, int tile, float* kt)
    {
        var values = (ushort*)entries;
        var index = values + count;
        for (int e = 0; e < count; e++)   // in position order, unused entries (0xFFFF) last
        {
            uint i = index[e], t = i / (KiviCodec.MaxExactKeyHeadDim * T);
            if (t < tile) continue;
            if (t > tile) break;
            kt[i % KiviCodec.MaxExactKeyHeadDim * T + i / KiviCodec.MaxExactKeyHeadDim % T] = HalfToSingle(values[e]);
        }
    }

    private static void LoadKeyCodes(int bits, byte* segment, int tile, int hd, float* kt)
    {
        float* sm = stackalloc float[2 * hd];   // scales, then minimums
        HalfConversion.ToSingle((Half*)segment, sm, 2 * hd);
        byte* codes = segment + 4 * hd + tile * hd * 2 * bits;
        int perGroup = 8 / bits, mask = (1 << bits) - 1;
        if (Avx512F.IsSupported)
        {
            var m = Vector512.Create(mask);
            for (int g = 0, d = 0; g < hd / perGroup; g++)
            {
                var x = Avx512F.ConvertToVector512Int32(Vector128.Load(codes + g * T));
                for (int c = 0; c < perGroup; c++, d++)
                {
                    var code = Avx512F.ConvertToVector512Single((x >>> (c * bits)) & m);
                    Avx512F.FusedMultiplyAdd(code, Vector512.Create(sm[d]), Vector512.Create(sm[hd + d])).Store(kt + d * T);
                }
            }
            return;
        }
        if (Avx2.IsSupported && Fma.IsSupported)
        {
            var m = Vector256.Create(mask);
            for (int g = 0; g < hd / perGroup; g++)
                for (int half = 0; half < 2; half++)
                {
                    var x = Avx2.ConvertToVector256Int32(codes + g * T + half * 8);
                    for (int c = 0, d = g * perGroup; c < perGroup; c++, d++)
                    {
                        var code = Avx.ConvertToVector256Single((x >>> (c * bits)) & m);
                        Fma.MultiplyAdd(code, Vector256.Create(sm[d]), Vector256.Create(sm[hd + d])).Store(kt + d * T + half * 8);
                    }
                }
            return;
        }
        for (int d = 0; d < hd; d++)
            for (int j = 0; j < T; j++)
                kt[d * T + j] = ((codes[d / perGroup * T + j] >> (d % perGroup * bits)) & mask) * sm[d] + sm[hd + d];
    }

    /// <summary>Rows v[j·hd + d] of the first <paramref name="valid"/> positions of tile <paramref name="tile"/> of a coded value segment.</summary>
    public static void LoadValues(int bits, byte* segment, int tile, int hd, int valid, float* v)
    {
        int rowBytes = KiviCodec.ValueRowBytes(bits, hd);
        byte* row = segment + (long)tile * T * rowBytes;
        for (int j = 0; j < valid; j++, row += rowBytes, v += hd)
            LoadRow(bits, row, hd, v);
    }

    /// <summary>One coded value row [hd] as floats, run by run of 32 channels (a group of 64 is two runs sharing a scale and minimum).</summary>
    public static void LoadRow(int bits, byte* row, int hd, float* dst)
    {
        int runsPerGroup = KiviCodec.ValueGroup(hd) / KiviCodec.ValueRun, groups = hd / KiviCodec.ValueGroup(hd), groupBytes = KiviCodec.ValueRun * bits / 8;
        var sm = (ushort*)row;
        byte* q = row + 4 * groups;
        for (int run = 0; run < hd / KiviCodec.ValueRun; run++, q += groupBytes, dst += KiviCodec.ValueRun)
        {
            int g = run / runsPerGroup;
            float s = HalfToSingle(sm[g]), m = HalfToSingle(sm[groups + g]);
            if (Avx512F.IsSupported)
            {
                var vs = Vector512.Create(s);
                var vm = Vector512.Create(m);
                if (bits == 4)
                {
                    var x = Avx512F.ConvertToVector512Int32(Vector128.Load(q));
                    Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(x & Vector512.Create(15)), vs, vm).Store(dst);
                    Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(x >>> 4), vs, vm).Store(dst + 16);
                }
                else
                {
                    // The 8 code bytes twice: lanes 0-7 and 8-15 read the same bytes at different bit pairs.
                    var x = Avx512F.ConvertToVector512Int32(Vector128.Create(*(ulong*)q).AsByte()).AsUInt32();
                    var lo = Avx512F.ShiftRightLogicalVariable(x, Vector512.Create(0u, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2));
                    var hi = Avx512F.ShiftRightLogicalVariable(x, Vector512.Create(4u, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6));
                    Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single((lo & Vector512.Create(3u)).AsInt32()), vs, vm).Store(dst);
                    Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single((hi & Vector512.Create(3u)).AsInt32()), vs, vm).Store(dst + 16);
                }
                continue;
            }
            if (Avx2.IsSupported && Fma.IsSupported)
            {
                var vs = Vector256.Create(s);
                var vm = Vector256.Create(m);
                if (bits == 4)
                    for (int half = 0; half < 2; half++)
                    {
                        var x = Avx2.ConvertToVector256Int32(q + half * 8);
                        Fma.MultiplyAdd(Avx.ConvertToVector256Single(x & Vector256.Create(15)), vs, vm).Store(dst + half * 8);
                        Fma.MultiplyAdd(Avx.ConvertToVector256Single(x >>> 4), vs, vm).Store(dst + 16 + half * 8);
                    }
                else
                {
                    var x = Avx2.ConvertToVector256Int32(q);
                    for (int c = 0; c < 4; c++)
                        Fma.MultiplyAdd(Avx.ConvertToVector256Single((x >>> (2 * c)) & Vector256.Create(3)), vs, vm).Store(dst + 8 * c);
                }
                continue;
            }
            for (int e = 0; e < KiviCodec.ValueRun; e++)
                dst[e] = ((q[e % groupBytes] >> (e / groupBytes * bits)) & ((1 << bits) - 1)) * s + m;
        }
    }

    /// <summary>fp16 bits to float by rebiasing the exponent (exact for normal and subnormal values; a cache holds no inf/NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HalfToSingle(ushort h) =>
        BitConverter.UInt32BitsToSingle(((uint)(h & 0x7FFF) << 13) | ((uint)(h & 0x8000) << 16)) * Rebias;
}
