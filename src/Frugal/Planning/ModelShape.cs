using Frugal.Gguf;
using Frugal.Inference.Benchmarking;
using Frugal.Models;
using Frugal.Models.Residency;
using Frugal.Numerics;

namespace Frugal.Planning;

/// <summary>
/// One tensor as a plan sees it: its type, shape ([Rows, Cols], Cols the row length), bytes in the file, and
/// where its bytes start in the file, and <paramref name="Residency"/>, the entry the loader's residency policy sizes it by (in-memory bytes: a repacked
/// layout's, so the plan's resident/streamed split is the loader's).
/// </summary>
public readonly record struct ShapeTensor(string Name, GgmlType Type, long Rows, long Cols, long Bytes, int Layer, bool IsVector, WeightTensor Residency, long FileOffset);

/// <summary>
/// What the GGUF header says about a model: hyper-parameters and the tensor directory. Built from the header alone
/// (<see cref="GgufFile"/> maps the file and parses the header; no tensor byte is read), so a file larger than RAM
/// can be planned.
/// </summary>
public sealed record ModelShape(ModelConfig Config, IReadOnlyList<ShapeTensor> Tensors, long HeaderBytes, long FileBytes)
{
    /// <summary>Bytes one decode step reads from the weights (<see cref="WeightTraffic.BytesPerDecodedToken"/>: the output matrix, not the embedding unless tied).</summary>
    public required long DecodeWeightBytes { get; init; }

    public long WeightBytes => Tensors.Sum(t => t.Bytes);

    public static ModelShape FromGguf(GgufFile file)
    {
        var config = ArchitectureRegistry.ReadConfig(file);
        var tensors = file.Tensors.Select(t =>
        {
            long cols = t.Dimensions.Length == 0 ? 1 : t.Dimensions[0];
            long rows = t.Dimensions.Skip(1).Aggregate(1L, (a, d) => a * d);
            var w = WeightTensor.From(t);
            return new ShapeTensor(t.Name, t.Type, rows, cols, t.ByteSize, w.Layer, w.IsVector, w, t.FileOffset);
        }).ToList();
        return new ModelShape(config, tensors, file.DataOffset, file.Length) { DecodeWeightBytes = WeightTraffic.BytesPerDecodedToken(file) };
    }

    /// <summary>The matrices a forward step multiplies by: every layer matrix and the output (the embedding when tied).</summary>
    public IEnumerable<ShapeTensor> MultipliedMatrices() => Tensors.Where(t => !t.IsVector &&
        (t.Layer >= 0 || t.Name == WeightTraffic.Output || (Config.TiedEmbeddings && t.Name == WeightTraffic.TokenEmbedding)));

    /// <summary>The weight type holding the most bytes (the file's "quantization" as people name it).</summary>
    public GgmlType MainType => Tensors.Where(t => !t.IsVector).GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.Bytes)).First().Key;
}
