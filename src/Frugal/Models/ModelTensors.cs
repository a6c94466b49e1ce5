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

    public WeightMatrix? OptionalMatrix(string name, int rows, int cols) => Has(name) ? Matrix(name, rows, cols) : null;

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
