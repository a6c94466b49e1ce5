using System.Numerics.Tensors;

namespace Frugal.Numerics;

/// <summary>
/// A weight matrix kept in its GGUF block format (never dequantized as a whole): <see cref="Rows"/> rows of
/// <see cref="Cols"/> elements each, row-major, as ggml stores a tensor with ne = [Cols, Rows].
/// Model code multiplies through this type only, so the kernel behind it can change without touching models.
/// </summary>
public sealed unsafe class WeightMatrix
{
    public WeightMatrix(GgmlType type, nint data, int rows, int cols, string name = "")
    {
        if (!Dequantize.IsSupported(type))
            throw new NotSupportedException($"tensor '{name}' has type {GgmlTypeInfo.Name(type)}, which is not supported");
        Type = type;
        Data = data;
        Rows = rows;
        Cols = cols;
        Name = name;
        RowBytes = GgmlTypeInfo.RowBytes(type, cols);
    }

    public GgmlType Type { get; }

    /// <summary>Pointer to the first block (memory-mapped file data or a pinned buffer).</summary>
    public nint Data { get; }

    public int Rows { get; }

    public int Cols { get; }

    public string Name { get; }

    public long RowBytes { get; }

    public ReadOnlySpan<byte> RowData(int row) => new((byte*)Data + row * RowBytes, (int)RowBytes);

    /// <summary>Dequantizes one row (an embedding lookup).</summary>
    public void GetRow(int row, Span<float> dst)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} of '{Name}' (rows: {Rows})");
        Dequantize.Row(Type, RowData(row), dst[..Cols]);
    }

    /// <summary>
    /// Y = X · Wᵀ for <paramref name="n"/> input vectors: <paramref name="x"/> is [n, Cols], <paramref name="y"/> is [n, Rows].
    /// </summary>
    public void Multiply(ReadOnlySpan<float> x, Span<float> y, int n)
    {
        if (x.Length < n * Cols || y.Length < n * Rows)
            throw new ArgumentException($"'{Name}': {n} inputs need x of {n * Cols} and y of {n * Rows} floats");
        // Reference path: dequantize each row once and dot it with every input. The fast kernels replace this.
        var row = new float[Cols];
        for (int r = 0; r < Rows; r++)
        {
            Dequantize.Row(Type, RowData(r), row);
            for (int i = 0; i < n; i++)
                y[i * Rows + r] = TensorPrimitives.Dot(row, x.Slice(i * Cols, Cols));
        }
    }
}
