using Frugal.Numerics;

namespace Frugal.Gguf;

/// <summary>
/// One entry of the tensor directory. <see cref="Dimensions"/> is in ggml order: <c>Dimensions[0]</c> is the
/// contiguous (row) length, so a PyTorch weight of shape [out, in] has Dimensions = [in, out].
/// </summary>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long Offset, long ByteSize)
{
    /// <summary>Offset of the data from the start of the file.</summary>
    public long FileOffset { get; init; }

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Dimensions) n *= d;
            return n;
        }
    }

    /// <summary>Length of one row (ne[0]).</summary>
    public long RowLength => Dimensions.Length == 0 ? 1 : Dimensions[0];

    /// <summary>Number of rows: the product of every dimension but the first.</summary>
    public long RowCount => RowLength == 0 ? 0 : ElementCount / RowLength;

    public string ShapeText => "[" + string.Join(", ", Dimensions) + "]";
}
