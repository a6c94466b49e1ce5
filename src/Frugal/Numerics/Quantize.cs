using System.Runtime.InteropServices;
using Frugal.Numerics.Quant;

namespace Frugal.Numerics;

/// <summary>
/// The one dispatch point from a ggml type to its row quantizer. Each quantizer follows ggml's reference
/// (non-imatrix) quantize_row_*_ref, the path ggml_quantize_chunk takes without an importance matrix, and
/// produces the same bytes. Q8_K is the activation format of k-quant dot products; it has no dequantize dispatch.
/// </summary>
public static class Quantize
{
    /// <summary>True when float rows can be quantized to this type.</summary>
    public static bool CanQuantizeTo(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1
        or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K;

    /// <summary>
    /// Quantizes all of <paramref name="src"/> (a whole number of blocks) into the first
    /// <see cref="GgmlTypeInfo.RowBytes"/> bytes of <paramref name="dst"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The type has no quantizer here; the message names it.</exception>
    /// <exception cref="ArgumentException">The length is not whole blocks, or <paramref name="dst"/> is too short.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (!CanQuantizeTo(type))
            throw new NotSupportedException($"quantizing to tensor type {GgmlTypeInfo.Name(type)} is not supported");
        long need = GgmlTypeInfo.RowBytes(type, src.Length);
        if (dst.Length < need)
            throw new ArgumentException($"{src.Length} {type} elements need {need} bytes, got {dst.Length}", nameof(dst));
        dst = dst[..(int)need];
        switch (type)
        {
            case GgmlType.F32:
                src.CopyTo(MemoryMarshal.Cast<byte, float>(dst));
                break;
            case GgmlType.F16:
                var h = MemoryMarshal.Cast<byte, ushort>(dst);
                for (int i = 0; i < src.Length; i++) h[i] = GgmlScalar.FloatToFp16(src[i]);
                break;
            case GgmlType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(dst);
                for (int i = 0; i < src.Length; i++) bf[i] = GgmlScalar.FloatToBf16(src[i]);
                break;
            case GgmlType.Q8_0: BlockQ8_0.Quantize(src, MemoryMarshal.Cast<byte, BlockQ8_0>(dst)); break;
            case GgmlType.Q4_0: BlockQ4_0.Quantize(src, MemoryMarshal.Cast<byte, BlockQ4_0>(dst)); break;
            case GgmlType.Q4_1: BlockQ4_1.Quantize(src, MemoryMarshal.Cast<byte, BlockQ4_1>(dst)); break;
            case GgmlType.Q5_0: BlockQ5_0.Quantize(src, MemoryMarshal.Cast<byte, BlockQ5_0>(dst)); break;
            case GgmlType.Q5_1: BlockQ5_1.Quantize(src, MemoryMarshal.Cast<byte, BlockQ5_1>(dst)); break;
            case GgmlType.Q2_K: BlockQ2_K.Quantize(src, MemoryMarshal.Cast<byte, BlockQ2_K>(dst)); break;
            case GgmlType.Q3_K: BlockQ3_K.Quantize(src, MemoryMarshal.Cast<byte, BlockQ3_K>(dst)); break;
            case GgmlType.Q4_K: BlockQ4_K.Quantize(src, MemoryMarshal.Cast<byte, BlockQ4_K>(dst)); break;
            case GgmlType.Q5_K: BlockQ5_K.Quantize(src, MemoryMarshal.Cast<byte, BlockQ5_K>(dst)); break;
            case GgmlType.Q6_K: BlockQ6_K.Quantize(src, MemoryMarshal.Cast<byte, BlockQ6_K>(dst)); break;
            case GgmlType.Q8_K: BlockQ8_K.Quantize(src, MemoryMarshal.Cast<byte, BlockQ8_K>(dst)); break;
        }
    }
}
