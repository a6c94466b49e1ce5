using Frugal.Gguf;
using Frugal.Numerics;

namespace Frugal.Models;

/// <summary>
/// Looks tensors up by their llama.cpp names and checks their shapes against the hyper-parameters. Matrices stay
/// in their block format over the file's memory; only small vectors (norms, biases, rope factors) become floats.
/// </summary>
internal sealed class ModelTensors(GgufFile file)
{
    public GgufFile File { get; } = file;

    public bool Has(string name) => File.FindTensor(name) is not null;

    /// <summary>A [rows, cols] weight (ggml dims [cols, rows]) kept in its stored type.</summary>
    public WeightMatrix Matrix(string name, int rows, int cols)
    {
        var t = Get(name);
        if (t.Dimensions.Length < 2 || t.Dimensions[0] != cols || t.RowCount != rows || t.Dimensions.Skip(2).Any(d => d != 1))
            throw new ModelFormatException(File.Path, name, $"shape {t.ShapeText}, expected [{cols}, {rows}]");
        return new WeightMatrix(t.Type, File.DataPointer(t), rows, cols, name);
    }

    /// <summary>
    /// The <paramref name="count"/> [rows, cols] matrices of a 3-D expert tensor (ggml dims [cols, rows, count]), each a
    /// view of its own slice of the file's bytes in the stored type: nothing is copied or dequantized.
    /// </summary>
    public WeightMatrix[] ExpertMatrices(string name, int count, int rows, int cols)
    {
        var t = Get(name);
        if (t.Dimensions.Length != 3 || t.Dimensions[0] != cols || t.Dimensions[1] != rows || t.Dimensions[2] != count)
            throw new ModelFormatException(File.Path, name, $"shape {t.ShapeText}, expected [{cols}, {rows}, {count}] (cols, rows, experts)");
        var first = new WeightMatrix(t.Type, File.DataPointer(t), rows, cols, $"{name}[0]");
        long expertBytes = rows * first.RowBytes;
        var experts = new WeightMatrix[count];
        experts[0] = first;
        for (int e = 1; e < count; e++)
            experts[e] = new WeightMatrix(t.Type, File.DataPointer(t) + (nint)(e * expertBytes), rows, cols, $"{name}[{e}]");
        return experts;
    }

    public WeightMatrix? OptionalMatrix(string name, int rows, int cols) => Has(name) ? Matrix(name, rows, cols) : null;

    /// <summary>
    /// A fused [Σ rows, cols] weight (Phi-3's attn_qkv, its gate-up ffn_up) as consecutive row ranges of
    /// <paramref name="rows"/>, each a matrix over the same file bytes: a block format's rows are whole blocks, so a row
    /// range is a contiguous byte range and the kernels need not know the tensor was fused.
    /// </summary>
    public WeightMatrix[] RowRanges(string name, int cols, params int[] rows)
    {
        var t = Get(name);
        long total = rows.Sum(r => (long)r);
        if (t.Dimensions.Length < 2 || t.Dimensions[0] != cols || t.RowCount != total || t.Dimensions.Skip(2).Any(d => d != 1))
            throw new ModelFormatException(File.Path, name, $"shape {t.ShapeText}, expected [{cols}, {total}] ({string.Join(" + ", rows)} fused rows)");
        long rowBytes = GgmlTypeInfo.RowBytes(t.Type, cols);
        var parts = new WeightMatrix[rows.Length];
        long first = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            parts[i] = new WeightMatrix(t.Type, File.DataPointer(t) + (nint)(first * rowBytes), rows[i], cols, name);
            first += rows[i];
        }
        return parts;
    }

    /// <summary>A 1-D tensor of <paramref name="length"/> elements, converted to floats.</summary>
    public float[] Vector(string name, int length)
    {
        var t = Get(name);
        if (t.ElementCount != length || t.RowLength != length)
            throw new ModelFormatException(File.Path, name, $"shape {t.ShapeText}, expected [{length}]");
        if (!Dequantize.IsSupported(t.Type))
            throw WeightTypes.Unsupported(name, t.Type);
        var values = new float[length];
        Dequantize.Row(t.Type, File.GetTensorBytes(t), values);
        return values;
    }

    public float[]? OptionalVector(string name, int length) => Has(name) ? Vector(name, length) : null;

    /// <summary>
    /// Fails when the file holds tensors no loader asked for: like llama.cpp, an unknown tensor means the
    /// architecture has a part this code would silently skip.
    /// </summary>
    public void EnsureAllUsed()
    {
        var unused = File.Tensors.Where(t => !_used.Contains(t.Name)).Select(t => t.Name).ToList();
        if (unused.Count > 0)
            throw new NotSupportedException(
                $"{File.Path ?? "GGUF model"}: {unused.Count} tensor(s) this architecture does not use: {string.Join(", ", unused.Take(5))}{(unused.Count > 5 ? ", ..." : "")}");
    }

    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private GgufTensorInfo Get(string name)
    {
        var t = File.FindTensor(name) ?? throw new ModelFormatException(File.Path, name, "tensor is missing");
        _used.Add(name);
        return t;
    }
}
