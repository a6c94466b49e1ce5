using Frugal.Numerics;

namespace Frugal.Gguf.Quantization;

/// <summary>What <c>frugal quantize</c> is asked to make.</summary>
public sealed record QuantizeOptions
{
    public required QuantizationFileType FileType { get; init; }

    /// <summary>Every quantizable tensor in the file type's default type: no k-quant mix (llama-quantize's --pure).</summary>
    public bool Pure { get; init; }

    /// <summary>Quantize tensors that are already quantized (dequantized first; quality suffers twice).</summary>
    public bool AllowRequantize { get; init; }

    /// <summary>Threads that quantize rows in parallel; the bytes written do not depend on it.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}

/// <summary>One tensor of the output: its type before and after, and its size before and after.</summary>
public sealed record TensorQuantization(string Name, long[] Dimensions, GgmlType From, GgmlType To, long BytesBefore, long BytesAfter)
{
    public bool Converts => From != To;
}

/// <summary>Every tensor of the output in file order, with the types the recipe chose.</summary>
public sealed record QuantizationPlan(QuantizationFileType FileType, bool Pure, IReadOnlyList<TensorQuantization> Tensors, int Fallbacks)
{
    private long[]? _bytesBeforeIndex;

    /// <summary>Share of the input's tensor bytes done when tensor <paramref name="index"/> is <paramref name="fraction"/> done.</summary>
    public double Completed(int index, double fraction)
    {
        if (_bytesBeforeIndex is null)
        {
            var sums = new long[Tensors.Count + 1];
            for (int i = 0; i < Tensors.Count; i++) sums[i + 1] = sums[i] + Tensors[i].BytesBefore;
            _bytesBeforeIndex = sums;
        }
        long total = _bytesBeforeIndex[^1];
        return total == 0 ? 1 : (_bytesBeforeIndex[index] + fraction * Tensors[index].BytesBefore) / total;
    }

    public long BytesBefore => Tensors.Sum(t => t.BytesBefore);

    public long BytesAfter => Tensors.Sum(t => t.BytesAfter);

    /// <summary>Tensor count per output type, largest byte total first.</summary>
    public IEnumerable<(GgmlType Type, int Count, long Bytes)> TypeCounts =>
        Tensors.GroupBy(t => t.To).Select(g => (g.Key, g.Count(), g.Sum(t => t.BytesAfter))).OrderByDescending(x => x.Item3);
}

/// <summary>A written file: its plan and the sizes of both files.</summary>
public sealed record QuantizationResult(QuantizationPlan Plan, string OutputPath, long InputFileBytes, long OutputFileBytes);

/// <summary>Where a running quantization is: tensor <see cref="Index"/> of the plan, <see cref="Fraction"/> of its rows done.</summary>
public readonly record struct QuantizationProgress(QuantizationPlan Plan, int Index, double Fraction)
{
    public TensorQuantization Tensor => Plan.Tensors[Index];

    /// <summary>Share of the whole model done, by input bytes.</summary>
    public double Overall => Plan.Completed(Index, Fraction);
}
