using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// fp16 -> f32 for the K/V tiles and F16 weight rows. TensorPrimitives.ConvertToSingle(Half) runs ~4 ns an element here (no F16C in .NET),
/// which made tile loading most of decode attention and F16 matmuls slow; this widens 16 (or 8) halves at once and rebuilds the f32 bits
/// with the exponent-rebias multiply of <see cref="Kernels.RowInterleave.HalfToSingle(Vector512{uint})"/>: exact for
/// normal and subnormal values (a K/V cache holds no inf or NaN worth keeping).
/// </summary>
internal static unsafe class HalfConversion
{
    private const float Rebias = 5.192296858534828e33f; // 2^112

    public static void ToSingle(Half* src, float* dst, int n)
    {
        int i = 0;
        if (Avx512F.IsSupported)
            for (; i + 16 <= n; i += 16)
            {
                var h = Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)src + i));
                ((((h & Vector512.Create(0x7FFFu)) << 13) | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle() * Vector512.Create(Rebias)).Store(dst + i);
            }
        else if (Avx2.IsSupported)
            for (; i + 8 <= n; i += 8)
            {
                var h = Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)src + i)).AsUInt32();
                ((((h & Vector256.Create(0x7FFFu)) << 13) | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle() * Vector256.Create(Rebias)).Store(dst + i);
            }
        if (i < n) TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(src + i, n - i), new Span<float>(dst + i, n - i));
    }

    /// <summary>
    /// Each value rounded to the nearest fp16 (ties to even) and back to f32: what ggml's CPU backend does to the
    /// activations of an F16 weight (its vec_dot_type is F16), so an F16 model's matmuls see the inputs llama.cpp's do.
    /// Exact for every finite input: normal range by rounding the mantissa to 10 bits, fp16 subnormals to multiples of
    /// 2^-24, and magnitudes from 65520 up to infinity, as the conversion does.
    /// </summary>
    public static void RoundToHalf(float* src, float* dst, long n)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var x = Vector256.Load(src + i);
                var bits = x.AsUInt32();
                var sign = bits & Vector256.Create(0x80000000u);
                var abs = (bits & Vector256.Create(0x7FFFFFFFu)).AsSingle();
                var normal = ((bits + Vector256.Create(0x0FFFu) + ((bits >> 13) & Vector256<uint>.One)) & Vector256.Create(0xFFFFE000u)).AsSingle();
                var tiny = ((abs + Vector256.Create(0.5f)) - Vector256.Create(0.5f)).AsUInt32() | sign;
                var big = Vector256.Create(0x7F800000u) | sign;
                var r = Vector256.ConditionalSelect(Vector256.LessThan(abs, Vector256.Create(6.103515625e-05f)).AsUInt32(), tiny, normal.AsUInt32());
                r = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(abs, Vector256.Create(65520f)).AsUInt32(), big, r);
                // NaN stays NaN (its bits pass the normal-range rounding only if they stay NaN; keep the input's).
                r = Vector256.ConditionalSelect(Vector256.Equals(x, x).AsUInt32(), r, bits);
                r.AsSingle().Store(dst + i);
            }
        for (; i < n; i++)
            dst[i] = (float)(Half)src[i];
    }
}
