using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Frugal.Train.Model;

/// <summary>
/// The 512-bit micro-kernel of <see cref="MatMul"/>: a tile of 8 rows × 2 vectors (32 columns) of C kept in
/// 16 accumulators; each step of the sum broadcasts 8 elements of A against two vectors of one row of B.
/// The causal tile on the diagonal runs its few masked steps separately, so A's dead half is never read.
/// <see cref="MatMulKernel256"/> is the same code at another width and row count; change both together.
/// </summary>
internal static class MatMulKernel512
{
    public const int Rows = 8, Cols = 32;

    /// <summary>
    /// C[i0 .. i0+rows, j0 .. j0+Cols] (+)= Σ_p op(A)[i, p] · B[p, j] over p in [kFrom, k) (full and LowerC products, so K can
    /// be split into blocks) or over the rows' causal ranges within [0, k) (LowerA, UpperA; kFrom must be 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // full JIT on first call: no slow Tier-0 steps at the start of a run
    public static void Tile(ref float a, nint aRow, nint aCol, ref float b, nint ldb, ref float c, nint ldc,
        int i0, int rows, int j0, int kFrom, int k, Causal causal, bool accumulate)
    {
        // A short last block repeats its last row; the repeats are computed and dropped.
        nint a0 = i0 * aRow;
        nint a1 = (i0 + Math.Min(1, rows - 1)) * aRow;
        nint a2 = (i0 + Math.Min(2, rows - 1)) * aRow;
        nint a3 = (i0 + Math.Min(3, rows - 1)) * aRow;
        nint a4 = (i0 + Math.Min(4, rows - 1)) * aRow;
        nint a5 = (i0 + Math.Min(5, rows - 1)) * aRow;
        nint a6 = (i0 + Math.Min(6, rows - 1)) * aRow;
        nint a7 = (i0 + Math.Min(7, rows - 1)) * aRow;
        ref float c0 = ref Unsafe.Add(ref c, i0 * ldc + j0);
        Vector512<float> c00, c01;
        Vector512<float> c10, c11;
        Vector512<float> c20, c21;
        Vector512<float> c30, c31;
        Vector512<float> c40, c41;
        Vector512<float> c50, c51;
        Vector512<float> c60, c61;
        Vector512<float> c70, c71;
        if (accumulate)
        {
            ref float cr0 = ref c0;
            c00 = Vector512.LoadUnsafe(ref cr0); c01 = Vector512.LoadUnsafe(ref cr0, 16);
            ref float cr1 = ref Unsafe.Add(ref c0, Math.Min(1, rows - 1) * ldc);
            c10 = Vector512.LoadUnsafe(ref cr1); c11 = Vector512.LoadUnsafe(ref cr1, 16);
            ref float cr2 = ref Unsafe.Add(ref c0, Math.Min(2, rows - 1) * ldc);
            c20 = Vector512.LoadUnsafe(ref cr2); c21 = Vector512.LoadUnsafe(ref cr2, 16);
            ref float cr3 = ref Unsafe.Add(ref c0, Math.Min(3, rows - 1) * ldc);
            c30 = Vector512.LoadUnsafe(ref cr3); c31 = Vector512.LoadUnsafe(ref cr3, 16);
            ref float cr4 = ref Unsafe.Add(ref c0, Math.Min(4, rows - 1) * ldc);
            c40 = Vector512.LoadUnsafe(ref cr4); c41 = Vector512.LoadUnsafe(ref cr4, 16);
            ref float cr5 = ref Unsafe.Add(ref c0, Math.Min(5, rows - 1) * ldc);
            c50 = Vector512.LoadUnsafe(ref cr5); c51 = Vector512.LoadUnsafe(ref cr5, 16);
            ref float cr6 = ref Unsafe.Add(ref c0, Math.Min(6, rows - 1) * ldc);
            c60 = Vector512.LoadUnsafe(ref cr6); c61 = Vector512.LoadUnsafe(ref cr6, 16);
            ref float cr7 = ref Unsafe.Add(ref c0, Math.Min(7, rows - 1) * ldc);
            c70 = Vector512.LoadUnsafe(ref cr7); c71 = Vector512.LoadUnsafe(ref cr7, 16);
        }
        else
        {
            c00 = default; c01 = default;
            c10 = default; c11 = default;
            c20 = default; c21 = default;
            c30 = default; c31 = default;
            c40 = default; c41 = default;
            c50 = default; c51 = default;
            c60 = default; c61 = default;
            c70 = default; c71 = default;
        }
        int diagEnd = Math.Min(i0 + Rows, k);
        (int mainFrom, int mainTo) = causal switch
        {
            Causal.LowerA => (0, Math.Min(i0, k)),
            Causal.UpperA => (diagEnd, k),
            _ => (kFrom, k),
        };
        if (rows == Rows && mainFrom < mainTo)
        {
            // Full tile: walk refs along p so each broadcast is one load from [row base + row offset]; the refs
            // advance only while another step follows, so they never leave the buffers.
            nint s1 = aRow, s2 = 2 * aRow, s3 = 3 * aRow;
            ref float pa = ref Unsafe.Add(ref a, a0 + mainFrom * aCol);
            ref float pa4 = ref Unsafe.Add(ref pa, 4 * aRow);
            ref float pb = ref Unsafe.Add(ref b, mainFrom * ldb + j0);
            for (int p = mainFrom; ; )
            {
                var b0 = Vector512.LoadUnsafe(ref pb);
                var b1 = Vector512.LoadUnsafe(ref pb, 16);
                var x0 = Vector512.Create(pa); c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
                var x1 = Vector512.Create(Unsafe.Add(ref pa, s1)); c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
                var x2 = Vector512.Create(Unsafe.Add(ref pa, s2)); c20 = Vector512.FusedMultiplyAdd(x2, b0, c20); c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
                var x3 = Vector512.Create(Unsafe.Add(ref pa, s3)); c30 = Vector512.FusedMultiplyAdd(x3, b0, c30); c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
                var x4 = Vector512.Create(pa4); c40 = Vector512.FusedMultiplyAdd(x4, b0, c40); c41 = Vector512.FusedMultiplyAdd(x4, b1, c41);
                var x5 = Vector512.Create(Unsafe.Add(ref pa4, s1)); c50 = Vector512.FusedMultiplyAdd(x5, b0, c50); c51 = Vector512.FusedMultiplyAdd(x5, b1, c51);
                var x6 = Vector512.Create(Unsafe.Add(ref pa4, s2)); c60 = Vector512.FusedMultiplyAdd(x6, b0, c60); c61 = Vector512.FusedMultiplyAdd(x6, b1, c61);
                var x7 = Vector512.Create(Unsafe.Add(ref pa4, s3)); c70 = Vector512.FusedMultiplyAdd(x7, b0, c70); c71 = Vector512.FusedMultiplyAdd(x7, b1, c71);
                if (++p >= mainTo) break;
                pa = ref Unsafe.Add(ref pa, aCol);
                pa4 = ref Unsafe.Add(ref pa4, aCol);
                pb = ref Unsafe.Add(ref pb, ldb);
            }
        }
        else
        {
            for (int p = mainFrom; p < mainTo; p++)
            {
                ref float bp = ref Unsafe.Add(ref b, p * ldb + j0);
                var b0 = Vector512.LoadUnsafe(ref bp);
                var b1 = Vector512.LoadUnsafe(ref bp, 16);
                nint ap = p * aCol;
                var x0 = Vector512.Create(Unsafe.Add(ref a, a0 + ap)); c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
                var x1 = Vector512.Create(Unsafe.Add(ref a, a1 + ap)); c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
                var x2 = Vector512.Create(Unsafe.Add(ref a, a2 + ap)); c20 = Vector512.FusedMultiplyAdd(x2, b0, c20); c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
                var x3 = Vector512.Create(Unsafe.Add(ref a, a3 + ap)); c30 = Vector512.FusedMultiplyAdd(x3, b0, c30); c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
                var x4 = Vector512.Create(Unsafe.Add(ref a, a4 + ap)); c40 = Vector512.FusedMultiplyAdd(x4, b0, c40); c41 = Vector512.FusedMultiplyAdd(x4, b1, c41);
                var x5 = Vector512.Create(Unsafe.Add(ref a, a5 + ap)); c50 = Vector512.FusedMultiplyAdd(x5, b0, c50); c51 = Vector512.FusedMultiplyAdd(x5, b1, c51);
                var x6 = Vector512.Create(Unsafe.Add(ref a, a6 + ap)); c60 = Vector512.FusedMultiplyAdd(x6, b0, c60); c61 = Vector512.FusedMultiplyAdd(x6, b1, c61);
                var x7 = Vector512.Create(Unsafe.Add(ref a, a7 + ap)); c70 = Vector512.FusedMultiplyAdd(x7, b0, c70); c71 = Vector512.FusedMultiplyAdd(x7, b1, c71);
            }
        }
        if (causal is Causal.LowerA or Causal.UpperA)
        {
            // Row r of the diagonal tile keeps step p when p - i0 ≤ r (LowerA) or p - i0 ≥ r (UpperA).
            bool lower = causal == Causal.LowerA;
            for (int p = i0; p < diagEnd; p++)
            {
                int d = p - i0;
                ref float bp = ref Unsafe.Add(ref b, p * ldb + j0);
                var b0 = Vector512.LoadUnsafe(ref bp);
                var b1 = Vector512.LoadUnsafe(ref bp, 16);
                nint ap = p * aCol;
                if (lower ? d <= 0 : d >= 0) { var x = Vector512.Create(Unsafe.Add(ref a, a0 + ap)); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01); }
                if (lower ? d <= 1 : d >= 1) { var x = Vector512.Create(Unsafe.Add(ref a, a1 + ap)); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); }
                if (lower ? d <= 2 : d >= 2) { var x = Vector512.Create(Unsafe.Add(ref a, a2 + ap)); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); }
                if (lower ? d <= 3 : d >= 3) { var x = Vector512.Create(Unsafe.Add(ref a, a3 + ap)); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); }
                if (lower ? d <= 4 : d >= 4) { var x = Vector512.Create(Unsafe.Add(ref a, a4 + ap)); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41); }
                if (lower ? d <= 5 : d >= 5) { var x = Vector512.Create(Unsafe.Add(ref a, a5 + ap)); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51); }
                if (lower ? d <= 6 : d >= 6) { var x = Vector512.Create(Unsafe.Add(ref a, a6 + ap)); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61); }
                if (lower ? d <= 7 : d >= 7) { var x = Vector512.Create(Unsafe.Add(ref a, a7 + ap)); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71); }
            }
        }
        c00.StoreUnsafe(ref c0); c01.StoreUnsafe(ref c0, 16);
        if (rows > 1) { ref float cr = ref Unsafe.Add(ref c0, 1 * ldc); c10.StoreUnsafe(ref cr); c11.StoreUnsafe(ref cr, 16); }
        if (rows > 2) { ref float cr = ref Unsafe.Add(ref c0, 2 * ldc); c20.StoreUnsafe(ref cr); c21.StoreUnsafe(ref cr, 16); }
        if (rows > 3) { ref float cr = ref Unsafe.Add(ref c0, 3 * ldc); c30.StoreUnsafe(ref cr); c31.StoreUnsafe(ref cr, 16); }
        if (rows > 4) { ref float cr = ref Unsafe.Add(ref c0, 4 * ldc); c40.StoreUnsafe(ref cr); c41.StoreUnsafe(ref cr, 16); }
        if (rows > 5) { ref float cr = ref Unsafe.Add(ref c0, 5 * ldc); c50.StoreUnsafe(ref cr); c51.StoreUnsafe(ref cr, 16); }
        if (rows > 6) { ref float cr = ref Unsafe.Add(ref c0, 6 * ldc); c60.StoreUnsafe(ref cr); c61.StoreUnsafe(ref cr, 16); }
        if (rows > 7) { ref float cr = ref Unsafe.Add(ref c0, 7 * ldc); c70.StoreUnsafe(ref cr); c71.StoreUnsafe(ref cr, 16); }
    }
}
