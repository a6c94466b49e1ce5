using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// F32, F16 and BF16 weight rows against f32 activations (no activation quantization: these types are kept where
/// precision matters). The vector path converts a chunk of the row once into an L1 buffer and dots it with every
/// served column through TensorPrimitives; the scalar twin converts element by element.
/// </summary>
internal static unsafe class FloatRowKernels
{
    private const int Chunk = 512;

    public static void Dot<TC>(GgmlType type, byte* w, int cols, float* x, int xStride, int col, float* result, bool simd)
        where TC : struct, ICols
    {
        int n = TC.Count;
        if (!simd)
        {
            for (int c = 0; c < n; c++)
            {
                float* xr = x + (nint)(col + c) * xStride;
                float acc = 0;
                for (int i = 0; i < cols; i++)
                    acc += Element(type, w, i) * xr[i];
                result[c] = acc;
            }
            return;
        }
        for (int c = 0; c < n; c++)
            result[c] = 0;
        if (type == GgmlType.F32)
        {
            var wr = new ReadOnlySpan<float>(w, cols);
            for (int c = 0; c < n; c++)
                result[c] = TensorPrimitives.Dot(wr, new ReadOnlySpan<float>(x + (nint)(col + c) * xStride, cols));
            return;
        }
        float* buf = stackalloc float[Chunk];
        for (int i0 = 0; i0 < cols; i0 += Chunk)
        {
            int len = Math.Min(Chunk, cols - i0);
            var dst = new Span<float>(buf, len);
            if (type == GgmlType.F16)
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(w + 2L * i0, len), dst);
            else
                Bf16ToSingle((ushort*)(w + 2L * i0), buf, len);
            for (int c = 0; c < n; c++)
                result[c] += TensorPrimitives.Dot(dst, new ReadOnlySpan<float>(x + (nint)(col + c) * xStride + i0, len));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Element(GgmlType type, byte* w, int i) => type switch
    {
        GgmlType.F32 => ((float*)w)[i],
        GgmlType.F16 => (float)((Half*)w)[i],
        _ => BitConverter.Int32BitsToSingle(((ushort*)w)[i] << 16),
    };

    /// <summary>bfloat16 is the top half of an f32: widen each to 32 bits and shift it up.</summary>
    private static void Bf16ToSingle(ushort* src, float* dst, int len)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= len; i += 16)
            {
                var v = Vector256.Load(src + i);
                Vector256.ShiftLeft(Vector256.WidenLower(v), 16).AsSingle().Store(dst + i);
                Vector256.ShiftLeft(Vector256.WidenUpper(v), 16).AsSingle().Store(dst + i + 8);
            }
        }
        for (; i < len; i++)
            dst[i] = BitConverter.Int32BitsToSingle(src[i] << 16);
    }
}
