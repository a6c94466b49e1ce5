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
}
