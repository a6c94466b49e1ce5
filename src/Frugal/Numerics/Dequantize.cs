using System.Runtime.InteropServices;

namespace Frugal.Numerics;

/// <summary>
/// The one dispatch point from a ggml type to its row dequantizer. Each format's code lives in its own file
/// under Numerics/Quant; this class only routes.
/// </summary>
public static class Dequantize
{
    /// <summary>True when rows of this type can be turned into floats (and so used as weights).</summary>
    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16;

    /// <summary>Dequantizes <paramref name="dst"/>.Length elements from whole blocks in <paramref name="src"/>.</summary>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        long need = GgmlTypeInfo.RowBytes(type, dst.Length);
        if (src.Length < need)
            throw new ArgumentException($"{dst.Length} {type} elements need {need} bytes, got {src.Length}", nameof(src));
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(src[..(int)need]).CopyTo(dst);
                break;
            case GgmlType.F16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src[..(int)need]), dst);
                break;
            case GgmlType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(src[..(int)need]);
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = BitConverter.Int32BitsToSingle(bf[i] << 16);
                break;
            default:
                throw new NotSupportedException($"tensor type {GgmlTypeInfo.Name(type)} is not supported");
        }
    }
}
