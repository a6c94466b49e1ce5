using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Frugal.Train.Model;

/// <summary>Which part of a square product the causal attention mask leaves alive (row i may see columns ≤ i).</summary>
internal enum Causal
{
    /// <summary>The full product.</summary>
    None,
    /// <summary>Only C[i, j] with j ≤ i is needed (scores Q·Kᵀ, dO·Vᵀ); C above the diagonal may be overwritten near it or left as it was.</summary>
    LowerC,
    /// <summary>op(A) is lower triangular (P·V, dS·K): the sum for row i runs over p ≤ i only; A above the diagonal is never read.</summary>
    LowerA,
    /// <summary>op(A) is upper triangular (Pᵀ·dO, dSᵀ·Q): the sum for row i runs over p ≥ i only; the zero half is never read.</summary>
    UpperA,
}

/// <summary>
/// The trainer's one matrix product: C[M,N] (+)= op(A)[M,K] · B[K,N] with B and C row-major (row strides ldb, ldc) and
/// op(A)[i,p] at a[i·aRow + p·aCol], so A may be read as stored (aRow = lda, aCol = 1) or transposed (aRow = 1,
/// aCol = lda) without copying. Register-blocked micro-kernels (<see cref="MatMulKernel512"/>,
/// <see cref="MatMulKernel256"/>) broadcast one element of A against contiguous vectors of a row of B and keep the
/// whole output tile in registers across K; columns past the last full tile take the scalar path. Single-threaded
/// (the trainer parallelises over sequences); the summation order depends only on the sizes, so results are
/// reproducible.
/// </summary>
internal static class MatMul
{
    /// <summary>Floats of B per K block: 512 KiB, about half of a current core's L2.</summary>
    private const int BlockFloats = 128 * 1024;

    /// <summary>C[M,N] (+)= A[M,K] · B[K,N], all contiguous.</summary>
    public static void AB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false, Causal causal = Causal.None) =>
        Multiply(a, k, 1, b, n, c, n, m, n, k, accumulate, causal);

    /// <summary>C[M,N] (+)= A[K,M]ᵀ · B[K,N], all contiguous.</summary>
    public static void AtB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false, Causal causal = Causal.None) =>
        Multiply(a, 1, m, b, n, c, n, m, n, k, accumulate, causal);

    public static void Multiply(ReadOnlySpan<float> a, int aRow, int aCol, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, bool accumulate = false, Causal causal = Causal.None)
    {
        if (m <= 0 || n <= 0 || k <= 0) throw new ArgumentException($"MatMul: sizes [{m},{k}]·[{k},{n}] must be positive");
        if (causal != Causal.None && (causal == Causal.LowerC ? m != n : m != k))
            throw new ArgumentException($"MatMul: causal {causal} needs a square product, got [{m},{k}]·[{k},{n}]");
        if (aRow < 0 || aCol < 0 || ldb < n || ldc < n
            || (long)(m - 1) * aRow + (long)(k - 1) * aCol >= a.Length
            || (long)(k - 1) * ldb + n > b.Length || (long)(m - 1) * ldc + n > c.Length)
            throw new ArgumentException($"MatMul: buffers too small for [{m},{k}]·[{k},{n}] with strides a({aRow},{aCol}) b {ldb} c {ldc}");
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        // Products whose B is bigger than about half of L2 run in K blocks, so the B rows one row block streams stay in
        // L2 for the next. The accumulators go through C between blocks unchanged, so blocking does not alter the sums.
        int kBlocks = causal is Causal.None or Causal.LowerC ? (int)Math.Max(1, ((long)k * n + BlockFloats - 1) / BlockFloats) : 1;
        int tileCols = Vector512.IsHardwareAccelerated ? MatMulKernel512.Cols : MatMulKernel256.Cols;
        for (int kb = 0; kb < kBlocks; kb++)
        {
            int k0 = (int)((long)k * kb / kBlocks), k1 = (int)((long)k * (kb + 1) / kBlocks);
            bool acc = accumulate || kb > 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (int i0 = 0; i0 < m; i0 += MatMulKernel512.Rows)
                {
                    int rows = Math.Min(MatMulKernel512.Rows, m - i0);
                    int jEnd = ColumnEnd(causal, i0 + rows, n, tileCols);
                    for (int j0 = 0; j0 < jEnd; j0 += tileCols)
                        MatMulKernel512.Tile(ref ra, aRow, aCol, ref rb, ldb, ref rc, ldc, i0, rows, j0, k0, k1, causal, acc);
                }
            }
            else
            {
                for (int i0 = 0; i0 < m; i0 += MatMulKernel256.Rows)
                {
                    int rows = Math.Min(MatMulKernel256.Rows, m - i0);
                    int jEnd = ColumnEnd(causal, i0 + rows, n, tileCols);
                    for (int j0 = 0; j0 < jEnd; j0 += tileCols)
                        MatMulKernel256.Tile(ref ra, aRow, aCol, ref rb, ldb, ref rc, ldc, i0, rows, j0, k0, k1, causal, acc);
                }
            }
        }
        int tail = n - n % tileCols;
        if (tail < n) ScalarColumns(ref ra, aRow, aCol, ref rb, ldb, ref rc, ldc, m, tail, n, k, causal, accumulate);
    }

    /// <summary>End of the full column tiles that a row block ending (exclusively) at <paramref name="rowEnd"/> needs.</summary>
    private static int ColumnEnd(Causal causal, int rowEnd, int n, int tileCols)
    {
        int full = n - n % tileCols;
        return causal == Causal.LowerC ? Math.Min(full, (rowEnd + tileCols - 1) / tileCols * tileCols) : full;
    }

    /// <summary>The p range of row i's sum under <paramref name="causal"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (int From, int To) SumRange(Causal causal, int i, int k) => causal switch
    {
        Causal.LowerA => (0, Math.Min(k, i + 1)),
        Causal.UpperA => (i, k),
        _ => (0, k),
    };

    private static void ScalarColumns(ref float a, int aRow, int aCol, ref float b, int ldb, ref float c, int ldc,
        int m, int j0, int j1, int k, Causal causal, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            var (from, to) = SumRange(causal, i, k);
            int jEnd = causal == Causal.LowerC ? Math.Min(j1, i + 1) : j1;
            for (int j = j0; j < jEnd; j++)
            {
                float s = 0;
                for (int p = from; p < to; p++) s += Unsafe.Add(ref a, (nint)i * aRow + (nint)p * aCol) * Unsafe.Add(ref b, (nint)p * ldb + j);
                ref float dst = ref Unsafe.Add(ref c, (nint)i * ldc + j);
                dst = accumulate ? dst + s : s;
            }
        }
    }

    /// <summary>dst[cols, rows] (row stride ldDst) = src[rows, cols]ᵀ (row stride ldSrc).</summary>
    public static void Transpose(ReadOnlySpan<float> src, int ldSrc, Span<float> dst, int ldDst, int rows, int cols)
    {
        if (rows <= 0 || cols <= 0 || ldSrc < cols || ldDst < rows
            || (long)(rows - 1) * ldSrc + cols > src.Length || (long)(cols - 1) * ldDst + rows > dst.Length)
            throw new ArgumentException("MatMul.Transpose: buffers too small");
        const int B = 32;
        for (int r0 = 0; r0 < rows; r0 += B)
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int r1 = Math.Min(rows, r0 + B), c1 = Math.Min(cols, c0 + B);
                for (int r = r0; r < r1; r++)
                    for (int cc = c0; cc < c1; cc++) dst[cc * ldDst + r] = src[r * ldSrc + cc];
            }
    }

    /// <summary>dst[cols, rows] = src[rows, cols]ᵀ, both contiguous.</summary>
    public static void Transpose(ReadOnlySpan<float> src, Span<float> dst, int rows, int cols) => Transpose(src, cols, dst, rows, rows, cols);
}
