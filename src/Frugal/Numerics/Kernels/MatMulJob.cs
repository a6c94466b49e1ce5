using Frugal.Numerics.Threading;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// The reusable job object behind <see cref="MatMul.Multiply"/>: fields are set per call and each team member runs
/// its share: chunks of rows handed out from a shared counter, so the members finish together even when one core is
/// busy with other work.
/// </summary>
internal sealed unsafe class MatMulJob : IComputeJob
{
    internal enum Step { Quantize, Multiply }

    private GgmlType _type;
    private KernelPath _path;
    private MatMul.ActivationKind _kind;
    private byte* _w;          // [rows, rowBytes]
    private long _rowBytes;
    private int _rows, _cols, _n, _colBlock;
    private float* _x;         // [n, cols]
    private float* _y;         // [n, rows]
    private QuantizedRows _a;
    private int _nextChunk;    // next row chunk to hand out in the multiply phase
    private float _preScale;   // offset the activation sums are multiplied by (AVX-512, offset formats), else 0
    private byte* _packed;     // [rows / 16 groups] Q4_0x16, Q4_Kx16, Q6_Kx16 or Q8_0x16 copy of the whole groups of rows, or null
    private int _packedRows;   // rows covered by _packed (a multiple of 16)
    private byte* _offsetQs;   // [n, QsStride] the activation quants + 128 (the Q8_0x16 kernel's operand), or null

    public Step Phase;

    public void Set(GgmlType type, KernelPath path, MatMul.ActivationKind kind, byte* w, long rowBytes, int rows, int cols,
        float* x, float* y, int n, QuantizedRows a, int colBlock, byte* packed = null, byte* offsetQs = null)
    {
        _type = type;
        _path = path;
        _kind = kind;
        _w = w;
        _rowBytes = rowBytes;
        _rows = rows;
        _cols = cols;
        _x = x;
        _y = y;
        _n = n;
        _a = a;
        _colBlock = colBlock;
        _nextChunk = 0;
        _packed = packed;
        _offsetQs = offsetQs;
        _packedRows = packed == null ? 0 : Q4_0x16.GroupedRows(rows);
        _preScale = path != KernelPath.Avx512 ? 0 : type switch
        {
            GgmlType.Q4_0 when Block32Avx512.PreScaledOffset<Q4_0Format>() => Q4_0Format.Offset,
            GgmlType.Q5_0 when Block32Avx512.PreScaledOffset<Q5_0Format>() => Q5_0Format.Offset,
            _ => 0,
        };
    }

    /// <summary>Drops the caller's pointers so a stale job can never touch freed memory.</summary>
    public void Clear()
    {
        _w = _packed = _offsetQs = null;
        _x = _y = null;
        _a = default;
    }

    public void Execute(int worker, int workers)
    {
        if (Phase == Step.Quantize)
            Quantize(worker, workers);
        else
            Multiply(worker, workers);
    }

    public void Quantize(int worker, int workers)
    {
        int i0 = (int)((long)_n * worker / workers), i1 = (int)((long)_n * (worker + 1) / workers);
        bool simd = _path != KernelPath.Scalar;
        for (int i = i0; i < i1; i++)
        {
            float* xr = _x + (nint)i * _cols;
            if (_kind == MatMul.ActivationKind.Q8_0)
            {
                ActivationQuantizer.Q8_0Row(xr, _cols, _a.QsRow(i), _a.ScaleRow(i), simd);
                if (_preScale != 0)
                    Block32Avx512.PreScale(_a.ScaleRow(i), _cols / 32, _preScale);
                if (_offsetQs != null)
                    Q8_0x16.OffsetActivations(_a.QsRow(i), _offsetQs + (nint)i * _a.QsStride, _a.QsStride);
            }
            else
                ActivationQuantizer.Q8_KRow(xr, _cols, _a.QsRow(i), _a.ScaleRow(i), _a.SumRow(i), simd);
        }
    }

    private void Multiply(int worker, int workers)
    {
        var op = new MatMulOperands(_a, _x, _cols, _type, _path != KernelPath.Scalar);
        switch (_path)
        {
            case KernelPath.Avx512: Dispatch<Block32Avx512, KQuantAvx512>(op, workers); break;
            case KernelPath.Avx2: Dispatch<Block32Avx2, KQuantAvx2>(op, workers); break;
            case KernelPath.Vector128: Dispatch<Block32Vector128, KQuantVector128>(op, workers); break;
            default: Dispatch<Block32Scalar, KQuantScalar>(op, workers); break;
        }
    }

    private void Dispatch<TB, TK>(in MatMulOperands op, int workers)
        where TB : struct, IBlock32Isa
        where TK : struct, IKQuantIsa
    {
        switch (_type)
        {
            case GgmlType.Q4_0: Share<Block32Rows<Q4_0Format, TB>>(op, workers); break;
            case GgmlType.Q4_1: Share<Block32Rows<Q4_1Format, TB>>(op, workers); break;
            case GgmlType.Q5_0: Share<Block32Rows<Q5_0Format, TB>>(op, workers); break;
            case GgmlType.Q5_1: Share<Block32Rows<Q5_1Format, TB>>(op, workers); break;
            case GgmlType.Q8_0: Share<Block32Rows<Q8_0Format, TB>>(op, workers); break;
            case GgmlType.Q2_K: Share<KQuantRows<Q2_KFormat, TK>>(op, workers); break;
            case GgmlType.Q3_K: Share<KQuantRows<Q3_KFormat, TK>>(op, workers); break;
            case GgmlType.Q4_K: Share<KQuantRows<Q4_KFormat, TK>>(op, workers); break;
            case GgmlType.Q5_K: Share<KQuantRows<Q5_KFormat, TK>>(op, workers); break;
            case GgmlType.Q6_K: Share<KQuantRows<Q6_KFormat, TK>>(op, workers); break;
            default: Share<FloatRows>(op, workers); break;
        }
    }

    /// <summary>
    /// Members take chunks of rows from a shared counter until none is left, rather than a fixed half each: on a
    /// machine shared with other work one core is often slower (or descheduled for a while), and a static split
    /// then leaves the other spinning at the barrier. About 16 chunks per member; each row's result does not depend
    /// on who computes it.
    /// </summary>
    private void Share<TK>(in MatMulOperands op, int workers) where TK : struct, IRowKernel
    {
        if (workers == 1)
        {
            Rows<TK>(op, 0, _rows);
            return;
        }
        int chunk = (Math.Max(16, _rows / (workers * 16)) + 15) & ~15; // whole 16-row groups of a repacked copy
        while (true)
        {
            long r0 = (long)(Interlocked.Increment(ref _nextChunk) - 1) * chunk;
            if (r0 >= _rows)
                return;
            Rows<TK>(op, (int)r0, (int)Math.Min(_rows, r0 + chunk));
        }
    }

    private void Rows<TK>(in MatMulOperands op, int r0, int r1) where TK : struct, IRowKernel
    {
        if (typeof(TK) == typeof(FloatRows)) FloatRowKernels.ForgetConvertedRows();
        if (r0 < _packedRows)
        {
            int end = Math.Min(r1, _packedRows);
            PackedRows(op, r0, end);
            r0 = end;
            if (r0 >= r1)
                return;
        }
        float* res = stackalloc float[2 * ColTile.MaxWide]; // [2 rows, 8 columns]
        int rows = _rows;
        if (_n == 1)
        {
            // Decode streams one row at a time (pairing rows measured no faster here: the weights are the cost).
            for (int r = r0; r < r1; r++)
            {
                TK.Dot<One>(_w + r * _rowBytes, op, 0, res);
                _y[r] = res[0];
            }
            return;
        }
        // Batched: rows go in pairs (TK.Dot2: each activation block is loaded and its scales spread once for both
        // rows), the odd one out alone. Dot2 gives each row exactly Dot's result, so batch invariance holds.
        // Each weight row is unpacked once per tile of up to `tile` activation rows (all of a batched decode step's
        // sequences at once), the last tile taking whatever count is left.
        int tile = _path is KernelPath.Avx512 or KernelPath.Avx2 or KernelPath.Scalar ? ColTile.MaxWide : ColTile.MaxVector128;
        for (int c0 = 0; c0 < _n; c0 += _colBlock)
        {
            int c1 = Math.Min(_n, c0 + _colBlock);
            int r = r0;
            for (; r + 1 < r1; r += 2)
            {
                byte* w = _w + r * _rowBytes;
                for (int c = c0; c < c1; c += tile)
                {
                    int count = Math.Min(tile, c1 - c);
                    DotTile2<TK>(w, w + _rowBytes, op, c, count, res);
                    for (int j = 0; j < count; j++)
                    {
                        _y[(nint)(c + j) * rows + r] = res[j];
                        _y[(nint)(c + j) * rows + r + 1] = res[ColTile.MaxWide + j];
                    }
                }
            }
            if (r < r1)
            {
                byte* w = _w + r * _rowBytes;
                for (int c = c0; c < c1; c += tile)
                {
                    int count = Math.Min(tile, c1 - c);
                    DotTile<TK>(w, op, c, count, res);
                    for (int j = 0; j < count; j++)
                        _y[(nint)(c + j) * rows + r] = res[j];
                }
            }
        }
    }

    private static void DotTile2<TK>(byte* w0, byte* w1, in MatMulOperands op, int col, int count, float* res) where TK : struct, IRowKernel
    {
        switch (count)
        {
            case 1: TK.Dot2<One>(w0, w1, op, col, res); break;
            case 2: TK.Dot2<Two>(w0, w1, op, col, res); break;
            case 3: TK.Dot2<Three>(w0, w1, op, col, res); break;
            case 4: TK.Dot2<Four>(w0, w1, op, col, res); break;
            case 5: TK.Dot2<Five>(w0, w1, op, col, res); break;
            case 6: TK.Dot2<Six>(w0, w1, op, col, res); break;
            case 7: TK.Dot2<Seven>(w0, w1, op, col, res); break;
            default: TK.Dot2<Eight>(w0, w1, op, col, res); break;
        }
    }

    private static void DotTile<TK>(byte* w, in MatMulOperands op, int col, int count, float* res) where TK : struct, IRowKernel
    {
        switch (count)
        {
            case 1: TK.Dot<One>(w, op, col, res); break;
            case 2: TK.Dot<Two>(w, op, col, res); break;
            case 3: TK.Dot<Three>(w, op, col, res); break;
            case 4: TK.Dot<Four>(w, op, col, res); break;
            case 5: TK.Dot<Five>(w, op, col, res); break;
            case 6: TK.Dot<Six>(w, op, col, res); break;
            case 7: TK.Dot<Seven>(w, op, col, res); break;
            default: TK.Dot<Eight>(w, op, col, res); break;
        }
    }

    /// <summary>
    /// Rows r0 .. r1 (whole groups) from the repacked copy: per group, column tiles of up to the kernel's width, each
    /// group's weights unpacked once per tile (the group, 18-73 KB for these shapes, stays in L2 across its tiles).
    /// A column's arithmetic does not depend on its tile, so batch invariance holds as in the original layout.
    /// </summary>
    private void PackedRows(in MatMulOperands op, int r0, int r1)
    {
        switch (_type)
        {
            case GgmlType.Q6_K:
                // One column at a time (the output projection, this layout's main user, sees one or a few).
                long bytes = Q6_Kx16.GroupBytes(_cols / 256);
                for (int r = r0; r < r1; r += Q6_Kx16.Rows)
                    for (int c = 0; c < _n; c++)
                        Q6_Kx16Avx512.Dot(_packed + r / Q6_Kx16.Rows * bytes, _cols / 256, op.A, c, _y + (nint)c * _rows + r);
                break;
            case GgmlType.Q8_0 or GgmlType.Q5_0: TiledRows<Q8_0x16Kernel>(op, r0, r1); break; // Q5_0 widened to Q8_0x16 at load
            case GgmlType.Q4_K: TiledRows<Q4_Kx16Kernel>(op, r0, r1); break;
            default: TiledRows<Q4_0x16Kernel>(op, r0, r1); break;
        }
    }

    private void TiledRows<TK>(in MatMulOperands op, int r0, int r1) where TK : struct, IPackedKernel
    {
        long groupBytes = TK.GroupBytes(_cols);
        nint rows = _rows;
        for (int c0 = 0; c0 < _n; c0 += _colBlock)
        {
            int c1 = Math.Min(_n, c0 + _colBlock);
            for (int r = r0; r < r1; r += RowInterleave.Rows)
            {
                byte* g = _packed + r / RowInterleave.Rows * groupBytes;
                for (int c = c0; c < c1; c += TK.MaxCols)
                {
                    float* y = _y + c * rows + r;
                    switch (Math.Min(TK.MaxCols, c1 - c))
                    {
                        case 1: TK.Dot<One>(g, _cols, op.A, _offsetQs, c, y, rows); break;
                        case 2: TK.Dot<Two>(g, _cols, op.A, _offsetQs, c, y, rows); break;
                        case 3: TK.Dot<Three>(g, _cols, op.A, _offsetQs, c, y, rows); break;
                        case 4: TK.Dot<Four>(g, _cols, op.A, _offsetQs, c, y, rows); break;
                        case 5: TK.Dot<Five>(g, _cols, op.A, _offsetQs, c, y, rows); break;
                        case 6: TK.Dot<Six>(g, _cols, op.A, _offsetQs, c, y, rows); break;
                        case 7: TK.Dot<Seven>(g, _cols, op.A, _offsetQs, c, y, rows); break;
                        default: TK.Dot<Eight>(g, _cols, op.A, _offsetQs, c, y, rows); break;
                    }
                }
            }
        }
    }
}
