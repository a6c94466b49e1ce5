using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Numerics;

/// <summary>
/// A weight matrix kept in its GGUF block format (never dequantized as a whole): <see cref="Rows"/> rows of
/// <see cref="Cols"/> elements each, row-major, as ggml stores a tensor with ne = [Cols, Rows].
/// Model code multiplies through this type only, so the kernel behind it can change without touching models.
/// </summary>
public sealed unsafe class WeightMatrix : IDisposable
{
    public WeightMatrix(GgmlType type, nint data, int rows, int cols, string name = "")
    {
        _weightType = WeightTypes.Find(type) is { IsWeight: true } w ? w
            : throw WeightTypes.Unsupported(name, type);
        if (rows < 0 || cols <= 0)
            throw new ArgumentException($"tensor '{name}': shape [{rows}, {cols}] is not a matrix");
        Type = type;
        Data = data;
        Rows = rows;
        Cols = cols;
        Name = name;
        RowBytes = GgmlTypeInfo.RowBytes(type, cols);
    }

    /// <summary>
    /// A matrix whose repacked groups live in memory someone else owns (<paramref name="packed"/>, e.g. a stream
    /// buffer filled by <see cref="StreamedMatrix.Fill"/>); <paramref name="data"/> then only serves the rows past the
    /// last whole group of 16.
    /// </summary>
    internal WeightMatrix(GgmlType type, nint data, int rows, int cols, string name, nint packed) : this(type, data, rows, cols, name) =>
        _borrowedLayout = packed;

    /// <summary>Whether load-time repacking is on (FRUGAL_REPACK=0 turns it off, for comparisons).</summary>
    public static bool RepacksOnLoad { get; } = Environment.GetEnvironmentVariable("FRUGAL_REPACK") != "0";

    private readonly nint _borrowedLayout;

    internal WeightType WeightType => _weightType;

    public GgmlType Type { get; }

    /// <summary>Pointer to the first block (memory-mapped file data or a pinned buffer).</summary>
    public nint Data { get; }

    public int Rows { get; }

    public int Cols { get; }

    public string Name { get; }

    public long RowBytes { get; }

    /// <summary>
    /// Bytes of this matrix held in a kernel layout besides the original blocks (<see cref="PrepareKernelLayout"/>);
    /// 0 when the kernels read the original blocks directly.
    /// </summary>
    public long KernelLayoutBytes => _layout?.Bytes ?? 0;

    private readonly WeightType _weightType;

    private KernelLayoutBuffer? _layout;

    /// <summary>
    /// Repacks the weights into the layout of this CPU's fastest kernel where one exists and pays (the type's row of
    /// <see cref="WeightTypes"/> says which): today Q4_0, Q4_K, Q5_K, Q6_K and (with VNNI) Q8_0 and Q5_0 (widened to the
    /// Q8_0 layout) on AVX-512, whose 16-row interleaved copies
    /// (<see cref="Q4_0x16"/>, <see cref="Q4_Kx16"/>, <see cref="Q5_Kx16"/>, <see cref="Q6_Kx16"/>,
    /// <see cref="Q8_0x16"/>) run faster than the GGUF blocks. The copy is native memory of the same size as the rows it
    /// covers (Q8_0: 6% more, its block sums; Q5_0: 64% more); the original blocks stay where they
    /// are (the slower paths, <see cref="GetRow"/> and the rows past the last group of 16 read them). Returns the bytes
    /// added; call once, before the matrix is shared between threads. <paramref name="copied"/>, when given, hears of
    /// each slice of original rows (pointer, bytes) once it has been copied, so the owner of the memory can drop those
    /// pages while the rest is repacked and the two copies never coexist whole.
    /// </summary>
    public long PrepareKernelLayout(Action<nint, long>? copied = null)
    {
        if (_layout is not null || _borrowedLayout != 0 || !_weightType.Repacks(KernelDispatch.Best))
            return 0;
        long size = KernelLayoutBytesFor(_weightType, Rows, Cols);
        if (size == 0)
            return 0;
        var buffer = new KernelLayoutBuffer(size);
        int groups = Rows / 16;
        long groupBytes = size / groups;
        const int slice = 256; // groups per slice: 4096 rows, 2-19 MB of these models' matrices
        for (int g0 = 0; g0 < groups; g0 += slice)
        {
            int count = Math.Min(slice, groups - g0);
            byte* src = (byte*)Data + (long)g0 * 16 * RowBytes;
            byte* dst = buffer.Pointer + g0 * groupBytes;
            _weightType.Repack(src, RowBytes, count * 16, Cols, dst);
            copied?.Invoke((nint)src, count * 16 * RowBytes);
        }
        _layout = buffer;
        return buffer.Bytes;
    }

    /// <summary>
    /// Bytes <see cref="PrepareKernelLayout"/> adds for a [<paramref name="rows"/>, <paramref name="cols"/>] matrix of
    /// <paramref name="type"/> on this CPU (0 where its kernels read the GGUF blocks), known before any weight is read
    /// (<c>frugal plan</c> predicts resident memory with it).
    /// </summary>
    public static long KernelLayoutBytesFor(GgmlType type, int rows, int cols) =>
        WeightTypes.Find(type) is { IsWeight: true } w ? KernelLayoutBytesFor(w, rows, cols) : 0;

    private static long KernelLayoutBytesFor(WeightType type, int rows, int cols) =>
        type.Repacks(KernelDispatch.Best) && rows >= 16 ? type.RepackedBytes(rows, cols) : 0;

    /// <summary>Frees the kernel-layout copy (the original blocks belong to the file and are not touched).</summary>
    public void Dispose()
    {
        var layout = _layout;
        _layout = null;
        layout?.Dispose();
    }

    public ReadOnlySpan<byte> RowData(int row) => new((byte*)Data + row * RowBytes, (int)RowBytes);

    /// <summary>Dequantizes one row (an embedding lookup).</summary>
    public void GetRow(int row, Span<float> dst)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} of '{Name}' (rows: {Rows})");
        Dequantize.Row(Type, RowData(row), dst[..Cols]);
    }

    /// <summary>The repacked copy the kernels of <paramref name="path"/> read, or null where they read the blocks.</summary>
    internal byte* PackedLayout(KernelPath path) =>
        !_weightType.Repacks(path) ? null : _layout is { } l ? l.Pointer : (byte*)_borrowedLayout;

    /// <summary>
    /// Y_i = X_i · W_iᵀ for each of <paramref name="matrices"/> (all of one shape) in one step of the compute team, for a
    /// few input rows (a decode step's chosen experts): matrix i reads <paramref name="n"/> rows of <paramref name="x"/>
    /// from float i·<paramref name="xStride"/> (0: every matrix reads the same rows) and writes [n, Rows] at i·n·Rows of
    /// <paramref name="y"/>. The same numbers as one <see cref="Multiply(ReadOnlySpan{float}, Span{float}, int)"/> each.
    /// </summary>
    public static void MultiplyEach(ReadOnlySpan<WeightMatrix> matrices, ReadOnlySpan<float> x, int xStride, Span<float> y, int n) =>
        MultiplyEach(matrices, x, xStride, y, n, ComputeTeam.Default, KernelDispatch.Best);

    internal static void MultiplyEach(ReadOnlySpan<WeightMatrix> matrices, ReadOnlySpan<float> x, int xStride, Span<float> y, int n, ComputeTeam team, KernelPath path)
    {
        if (matrices.IsEmpty || n == 0)
            return;
        var first = matrices[0];
        foreach (var m in matrices)
            if (m.Rows != first.Rows || m.Cols != first.Cols)
                throw new ArgumentException($"'{m.Name}' is [{m.Rows}, {m.Cols}]; every matrix of the group must be [{first.Rows}, {first.Cols}] like '{first.Name}'");
        if (n < 0 || xStride < 0 || x.Length < (long)(matrices.Length - 1) * xStride + (long)n * first.Cols || y.Length < (long)matrices.Length * n * first.Rows)
            throw new ArgumentException($"{matrices.Length} multiplies of {n} inputs by [{first.Rows}, {first.Cols}] need x of {(long)(matrices.Length - 1) * xStride + (long)n * first.Cols} and y of {(long)matrices.Length * n * first.Rows} floats");
        fixed (float* xp = x)
        fixed (float* yp = y)
            MatMulGroup.Multiply(team, matrices, xp, xStride, yp, n, path);
    }

    /// <summary>
    /// Y = X · Wᵀ for <paramref name="n"/> input vectors: <paramref name="x"/> is [n, Cols], <paramref name="y"/> is [n, Rows].
    /// Runs on <see cref="ComputeTeam.Default"/> with the best kernel path of this CPU; allocates nothing.
    /// </summary>
    public void Multiply(ReadOnlySpan<float> x, Span<float> y, int n) => Multiply(x, y, n, ComputeTeam.Default, KernelDispatch.Best);

    /// <summary>As <see cref="Multiply(ReadOnlySpan{float}, Span{float}, int)"/> on a given team and kernel path (tests, benchmarks).</summary>
    internal void Multiply(ReadOnlySpan<float> x, Span<float> y, int n, ComputeTeam team, KernelPath path)
    {
        if (n < 0 || x.Length < (long)n * Cols || y.Length < (long)n * Rows)
            throw new ArgumentException($"'{Name}': {n} inputs need x of {(long)n * Cols} and y of {(long)n * Rows} floats");
        if (n == 0 || Rows == 0)
            return;
        fixed (float* xp = x)
        fixed (float* yp = y)
            MatMul.Multiply(team, _weightType, (byte*)Data, RowBytes, Rows, Cols, xp, yp, n, path, _layout is { } l ? l.Pointer : (byte*)_borrowedLayout);
    }
}
