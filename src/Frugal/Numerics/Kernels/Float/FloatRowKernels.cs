using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Frugal.Numerics.Attention;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// F32, F16 and BF16 weight rows against f32 activations (no activation quantization: these types are kept where
/// precision matters). The vector path converts a chunk of the row once into an L1 buffer and dots it with every
/// served column, four columns per weight load; the scalar twin converts element by element.
/// </summary>
internal static unsafe class FloatRowKernels
{
    private const int Chunk = 512;

    public static void Dot<TE, TC>(byte* w, int cols, float* x, int xStride, int col, float* result, bool simd)
        where TE : struct, IFloatElements
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
                    acc += TE.Element(w, i) * xr[i];
                result[c] = acc;
            }
            return;
        }
        for (int c = 0; c < n; c++)
            result[c] = 0;
        if (!TE.NeedsConversion)
        {
            float* xc = x + (nint)col * xStride;
            if (Vector512.IsHardwareAccelerated) Dots<Vector512<float>, Lanes512>((float*)w, cols, xc, xStride, n, result);
            else if (Vector256.IsHardwareAccelerated) Dots<Vector256<float>, Lanes256>((float*)w, cols, xc, xStride, n, result);
            else Dots<Vector128<float>, Lanes128>((float*)w, cols, xc, xStride, n, result);
            return;
        }
        float* row = ConvertedRow<TE>(w, cols);
        float* xs = x + (nint)col * xStride;
        if (Vector512.IsHardwareAccelerated) Dots<Vector512<float>, Lanes512>(row, cols, xs, xStride, n, result);
        else if (Vector256.IsHardwareAccelerated) Dots<Vector256<float>, Lanes256>(row, cols, xs, xStride, n, result);
        else Dots<Vector128<float>, Lanes128>(row, cols, xs, xStride, n, result);
    }

    // The last two weight rows this thread converted to f32 (a prefill visits each row once per tile of 8 activation
    // rows, and rows come in pairs), valid within one multiply: the driver forgets them at the start of each share.
    [ThreadStatic] private static float[]? _converted0, _converted1;
    [ThreadStatic] private static nint _key0, _key1;

    /// <summary>Drops the converted-row cache of this thread (the weights it points to may change between calls).</summary>
    public static void ForgetConvertedRows() => _key0 = _key1 = 0;

    /// <summary>Weight row <paramref name="w"/> as f32, converted once per multiply and reused by later column tiles.</summary>
    private static float* ConvertedRow<TE>(byte* w, int cols) where TE : struct, IFloatElements
    {
        if ((nint)w == _key0) return Pin(_converted0!);
        if ((nint)w == _key1) return Pin(_converted1!);
        // Evict the older entry: swap, then fill slot 1.
        (_converted0, _converted1) = (_converted1, _converted0);
        _key0 = _key1;
        if (_converted1 is null || _converted1.Length < cols) _converted1 = GC.AllocateUninitializedArray<float>(Math.Max(cols, Chunk), pinned: true);
        float* dst = Pin(_converted1);
        TE.ToSingle(w, dst, cols);
        _key1 = (nint)w;
        return dst;
    }

    /// <summary>The address of a pinned array's first element.</summary>
    private static float* Pin(float[] pinned) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>
    /// result[c] += w · x_c for <paramref name="n"/> activation rows, four at a time so each weight vector is loaded once
    /// for four rows (TensorPrimitives.Dot per row reloaded it, and its per-call overhead dominated rows of 128).
    /// </summary>
    private static void Dots<TVec, TOps>(float* w, int len, float* x, int xStride, int n, float* result)
        where TVec : struct where TOps : IFloatLanes<TVec>
    {
        int vec = len - len % TOps.Count;
        for (int c = 0; c < n; c += 4)
        {
            int m = Math.Min(4, n - c);
            float* x0 = x + (nint)c * xStride;
            float* x1 = m > 1 ? x0 + xStride : x0, x2 = m > 2 ? x0 + 2 * xStride : x0, x3 = m > 3 ? x0 + 3 * xStride : x0;
            TVec a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            for (int i = 0; i < vec; i += TOps.Count)
            {
                var wv = TOps.Load(w + i);
                a0 = TOps.Fma(wv, TOps.Load(x0 + i), a0);
                a1 = TOps.Fma(wv, TOps.Load(x1 + i), a1);
                a2 = TOps.Fma(wv, TOps.Load(x2 + i), a2);
                a3 = TOps.Fma(wv, TOps.Load(x3 + i), a3);
            }
            float s0 = TOps.HorizontalSum(a0), s1 = TOps.HorizontalSum(a1), s2 = TOps.HorizontalSum(a2), s3 = TOps.HorizontalSum(a3);
            for (int i = vec; i < len; i++)
            {
                s0 += w[i] * x0[i];
                s1 += w[i] * x1[i];
                s2 += w[i] * x2[i];
                s3 += w[i] * x3[i];
            }
            result[c] += s0;
            if (m > 1) result[c + 1] += s1;
            if (m > 2) result[c + 2] += s2;
            if (m > 3) result[c + 3] += s3;
        }
    }
}
