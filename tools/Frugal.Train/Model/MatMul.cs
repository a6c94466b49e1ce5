using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Frugal.Train.Model;

/// <summary>
/// The one matrix product the trainer needs: C[M,N] (+)= A[M,K] · B[N,K]ᵀ, both operands with K contiguous, so every
/// output is a dot product of two rows. Forward (x·Wᵀ), backward-to-input and backward-to-weight products are all
/// written in this form by transposing the smaller operand first. 4x4 register tiles of Vector&lt;float&gt;
/// accumulators; single-threaded (the trainer parallelises over sequences).
/// </summary>
internal static class MatMul
{
    public static void ABt(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false)
    {
        if (a.Length < m * k || b.Length < n * k || c.Length < m * n)
            throw new ArgumentException($"MatMul.ABt: buffers too small for [{m},{k}]·[{n},{k}]ᵀ");
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            int j = 0;
            for (; j + 4 <= n; j += 4) Tile4x4(ref ra, ref rb, ref rc, i, j, n, k, accumulate);
            for (; j < n; j++)
                for (int ii = i; ii < i + 4; ii++) Single(ref ra, ref rb, ref rc, ii, j, n, k, accumulate);
        }
        for (; i < m; i++)
            for (int j = 0; j < n; j++) Single(ref ra, ref rb, ref rc, i, j, n, k, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Single(ref float ra, ref float rb, ref float rc, int i, int j, int n, int k, bool accumulate)
    {
        var a = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref ra, (nint)i * k), k);
        var b = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref rb, (nint)j * k), k);
        float dot = System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
        ref float dst = ref Unsafe.Add(ref rc, (nint)i * n + j);
        dst = accumulate ? dst + dot : dot;
    }

    private static void Tile4x4(ref float ra, ref float rb, ref float rc, int i, int j, int n, int k, bool accumulate)
    {
        int w = Vector<float>.Count;
        nuint a0 = (nuint)((nint)i * k), a1 = a0 + (nuint)k, a2 = a1 + (nuint)k, a3 = a2 + (nuint)k;
        nuint b0 = (nuint)((nint)j * k), b1 = b0 + (nuint)k, b2 = b1 + (nuint)k, b3 = b2 + (nuint)k;
        Vector<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector<float> c30 = default, c31 = default, c32 = default, c33 = default;
        int p = 0;
        for (; p + w <= k; p += w)
        {
            nuint o = (nuint)p;
            var x0 = Vector.LoadUnsafe(ref ra, a0 + o);
            var x1 = Vector.LoadUnsafe(ref ra, a1 + o);
            var x2 = Vector.LoadUnsafe(ref ra, a2 + o);
            var x3 = Vector.LoadUnsafe(ref ra, a3 + o);
            var y = Vector.LoadUnsafe(ref rb, b0 + o);
            c00 = Vector.FusedMultiplyAdd(x0, y, c00); c10 = Vector.FusedMultiplyAdd(x1, y, c10);
            c20 = Vector.FusedMultiplyAdd(x2, y, c20); c30 = Vector.FusedMultiplyAdd(x3, y, c30);
            y = Vector.LoadUnsafe(ref rb, b1 + o);
            c01 = Vector.FusedMultiplyAdd(x0, y, c01); c11 = Vector.FusedMultiplyAdd(x1, y, c11);
            c21 = Vector.FusedMultiplyAdd(x2, y, c21); c31 = Vector.FusedMultiplyAdd(x3, y, c31);
            y = Vector.LoadUnsafe(ref rb, b2 + o);
            c02 = Vector.FusedMultiplyAdd(x0, y, c02); c12 = Vector.FusedMultiplyAdd(x1, y, c12);
            c22 = Vector.FusedMultiplyAdd(x2, y, c22); c32 = Vector.FusedMultiplyAdd(x3, y, c32);
            y = Vector.LoadUnsafe(ref rb, b3 + o);
            c03 = Vector.FusedMultiplyAdd(x0, y, c03); c13 = Vector.FusedMultiplyAdd(x1, y, c13);
            c23 = Vector.FusedMultiplyAdd(x2, y, c23); c33 = Vector.FusedMultiplyAdd(x3, y, c33);
        }
        Span<float> s = stackalloc float[16];
        s[0] = Vector.Sum(c00); s[1] = Vector.Sum(c01); s[2] = Vector.Sum(c02); s[3] = Vector.Sum(c03);
        s[4] = Vector.Sum(c10); s[5] = Vector.Sum(c11); s[6] = Vector.Sum(c12); s[7] = Vector.Sum(c13);
        s[8] = Vector.Sum(c20); s[9] = Vector.Sum(c21); s[10] = Vector.Sum(c22); s[11] = Vector.Sum(c23);
        s[12] = Vector.Sum(c30); s[13] = Vector.Sum(c31); s[14] = Vector.Sum(c32); s[15] = Vector.Sum(c33);
        for (; p < k; p++)
            for (int r = 0; r < 4; r++)
            {
                float av = Unsafe.Add(ref ra, (nint)(i + r) * k + p);
                for (int q = 0; q < 4; q++) s[r * 4 + q] += av * Unsafe.Add(ref rb, (nint)(j + q) * k + p);
            }
        for (int r = 0; r < 4; r++)
            for (int q = 0; q < 4; q++)
            {
                ref float dst = ref Unsafe.Add(ref rc, (nint)(i + r) * n + j + q);
                dst = accumulate ? dst + s[r * 4 + q] : s[r * 4 + q];
            }
    }

    /// <summary>dst[cols, rows] = src[rows, cols]ᵀ.</summary>
    public static void Transpose(ReadOnlySpan<float> src, Span<float> dst, int rows, int cols)
    {
        if (src.Length < rows * cols || dst.Length < rows * cols) throw new ArgumentException("MatMul.Transpose: buffers too small");
        const int B = 32;
        for (int r0 = 0; r0 < rows; r0 += B)
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int r1 = Math.Min(rows, r0 + B), c1 = Math.Min(cols, c0 + B);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c];
            }
    }
}
