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

    private WeightType? _weight;
    private KernelPath _path;
    private byte* _w;          // [rows, rowBytes]
    private long _rowBytes;
    private int _rows, _cols, _n, _colBlock;
    private float* _x;         // [n, cols]
    private float* _y;         // [n, rows]
    private QuantizedRows _a;
    private int _nextChunk;    // next row chunk to hand out in the multiply phase
    private float _preScale;   // offset the activation sums are multiplied by (AVX-512, offset formats), else 0
    private byte* _packed;     // [rows / 16 groups] Q4_0x16, Q4_Kx16, Q5_Kx16, Q6_Kx16 or Q8_0x16 copy of the whole groups of rows, or null
    private int _packedRows;   // rows covered by _packed (a multiple of 16)
    private byte* _offsetQs;   // [n, QsStride] the activation quants + 128 (the Q8_0x16 kernel's operand), or null
    private float* _packedX;   // [n, cols] the activations times F16x16.ActivationScale (the F16x16 kernel's operand), or null

    public Step Phase;

    public void Set(WeightType weight, KernelPath path, byte* w, long rowBytes, int rows, int cols,
        float* x, float* y, int n, QuantizedRows a, int colBlock, byte* packed = null, byte* offsetQs = null, float* packedX = null)
    {
        _weight = weight;
        _path = path;
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
        _packedX = packedX;
        _packedRows = packed == null ? 0 : RowInterleave.GroupedRows(rows);
        _preScale = weight.PreScale(path);
    }

    /// <summary>Drops the caller's pointers so a stale job can never touch freed memory.</summary>
    public void Clear()
    {
        _w = _packed = _offsetQs = null;
        _x = _y = _packedX = null;
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
            if (_weight!.Activation == ActivationKind.Q8_0)
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

    private void Multiply(int worker, int workers) =>
        _weight!.Share(this, new MatMulOperands(_a, _x, _cols, _path != KernelPath.Scalar), workers, _path);

    /// <summary>
    /// Members take chunks of rows from a shared counter until none is left, rather than a fixed half each: on a
    /// machine shared with other work one core is often slower (or descheduled for a while), and a static split
    /// then leaves the other spinning at the barrier. About 16 chunks per member; each row's result does not depend
    /// on who computes it. <typeparamref name="TK"/> is the row kernel of the weight's format on this path,
    /// <typeparamref name="TR"/> its repacked layout's kernel (<see cref="NotRepacked"/> where none): the type's
    /// <see cref="WeightType.Share"/> picks both.
    /// </summary>
    internal void Share<TK, TR>(in MatMulOperands op, int workers)
        where TK : struct, IRowKernel
        where TR : struct, IPackedKernel
    {
        if (workers == 1)
        {
            Rows<TK, TR>(op, 0, _rows);
            return;
        }
        int chunk = (Math.Max(16, _rows / (workers * 16)) + 15) & ~15; // whole 16-row groups of a repacked copy
        while (true)
        {
            long r0 = (long)(Interlocked.Increment(ref _nextChunk) - 1) * chunk;
            if (r0 >= _rows)
                return;
            Rows<TK, TR>(op, (int)r0, (int)Math.Min(_rows, r0 + chunk));
        }
    }

    private void Rows<TK, TR>(in MatMulOperands op, int r0, int r1)
        where TK : struct, IRowKernel
        where TR : struct, IPackedKernel
    {
        if (typeof(TR) != typeof(NotRepacked) && r0 < _packedRows)
        {
            int end = Math.Min(r1, _packedRows);
            if (typeof(TR) == typeof(F16x16Kernel)) F16Rows(r0, end); // f32 activations, not the quantized form
            else PackedRows<TR>(op, r0, end);
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
    /// Rows r0 .. r1 (whole groups) of an F16 matrix from its <see cref="F16x16"/> copy, against the scaled activations:
    /// tiles of 4 groups (the last 1-3 alone) by column tiles of 1-4, the columns split evenly (9 = 3 + 3 + 3) so no
    /// tile is left with one column and one FMA chain per group; 5-16 columns (a step verifying up to 15 drafted tokens)
    /// go over pairs of groups in one or two wide passes (9 = 4 + 5: 8-10 chains a pass, each weight converted twice,
    /// where three 4-group tiles of 3 columns converted it three times and made a ninth row cost like two).
    /// </summary>
    private void F16Rows(int r0, int r1)
    {
        long groupBytes = F16x16.GroupBytes(_cols);
        nint rows = _rows;
        if (_n is > F16x16.MaxCols and <= 4 * F16x16.MaxCols)
        {
            int passes = (_n + 2 * F16x16.MaxCols - 1) / (2 * F16x16.MaxCols);
            for (int r = r0; r < r1; r += 2 * F16x16.Rows)
            {
                var g = (ushort*)(_packed + r / F16x16.Rows * groupBytes);
                for (int p = 0; p < passes; p++)
                {
                    int c0 = _n * p / passes, c1 = _n * (p + 1) / passes;
                    if (r + 2 * F16x16.Rows <= r1) F16Wide<Two>(g, groupBytes, c0, c1 - c0, _y + c0 * rows + r, rows);
                    else F16Wide<One>(g, groupBytes, c0, c1 - c0, _y + c0 * rows + r, rows);
                }
            }
            return;
        }
        int tiles = (_n + F16x16.MaxCols - 1) / F16x16.MaxCols;
        for (int r = r0; r < r1; r += F16x16.MaxGroups * F16x16.Rows)
        {
            var g = (ushort*)(_packed + r / F16x16.Rows * groupBytes);
            int groups = Math.Min(F16x16.MaxGroups, (r1 - r) / F16x16.Rows);
            for (int t = 0; t < tiles; t++)
            {
                int c0 = _n * t / tiles, c1 = _n * (t + 1) / tiles;
                float* y = _y + c0 * rows + r;
                switch (groups)
                {
                    case 1: F16Tile<One>(g, groupBytes, c0, c1 - c0, y, rows); break;
                    case 2: F16Tile<Two>(g, groupBytes, c0, c1 - c0, y, rows); break;
                    case 3: F16Tile<Three>(g, groupBytes, c0, c1 - c0, y, rows); break;
                    default: F16Tile<Four>(g, groupBytes, c0, c1 - c0, y, rows); break;
                }
            }
        }
    }

    private void F16Wide<TG>(ushort* g, long groupBytes, int col, int count, float* y, nint rows) where TG : struct, ICols
    {
        switch (count)
        {
            case 4: F16x16.DotWide<TG, Four>(g, groupBytes, _cols, _packedX, _cols, col, y, rows); break;
            case 5: F16x16.DotWide<TG, Five>(g, groupBytes, _cols, _packedX, _cols, col, y, rows); break;
            case 6: F16x16.DotWide<TG, Six>(g, groupBytes, _cols, _packedX, _cols, col, y, rows); break;
            case 7: F16x16.DotWide<TG, Seven>(g, groupBytes, _cols, _packedX, _cols, col, y, rows); break;
            default: F16x16.DotWide<TG, Eight>(g, groupBytes, _cols, _packedX, _cols, col, y, rows); break;
        }
    }

    private void F16Tile<TG>(ushort* g, long groupBytes, int col, int count, float* y, nint rows) where TG : struct, ICols
    {
        switch (count)
        {
            case 1: F16x16.Dot<TG, One>(g, groupBytes, _cols, _packedX, _cols, col, y, rows); break;
            case 2: F16x16.Dot<TG, Two>(g, groupBytes, _cols, _packedX, _cols, col, y, rows); break;
            case 3: F16x16.Dot<TG, Three>(g, groupBytes, _cols, _packedX, _cols, col, y, rows); break;
            default: F16x16.Dot<TG, Four>(g, groupBytes, _cols, _packedX, _cols, col, y, rows); break;
        }
    }

    /// <summary>
    /// Rows r0 .. r1 (whole groups) from the repacked copy: per group, column tiles of up to the kernel's width, each
    /// group's weights unpacked once per tile (the group, 18-73 KB for these shapes, stays in L2 across its tiles).
    /// A column's arithmetic does not depend on its tile, so batch invariance holds as in the original layout.
    /// </summary>
    private void PackedRows<TK>(in MatMulOperands op, int r0, int r1) where TK : struct, IPackedKernel
    {
        long groupBytes = TK.GroupBytes(_cols);
        nint rows = _rows;
        // A one-column kernel (Q6_Kx16) shares no unpacking between columns: each group meets every column while it
        // is in cache, rather than once per column block.
        int colBlock = TK.MaxCols == 1 ? _n : _colBlock;
        for (int c0 = 0; c0 < _n; c0 += colBlock)
        {
            int c1 = Math.Min(_n, c0 + colBlock);
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
