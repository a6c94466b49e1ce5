using System.Runtime.InteropServices;
using Frugal.Numerics.Quant;

namespace Frugal.Numerics;

/// <summary>
/// The one dispatch point from a ggml type to its row dequantizer. Each format's code lives in its own file
/// under Numerics/Quant (bit-exact with ggml's dequantize_row_*); this class only routes.
/// </summary>
public static class Dequantize
{
    /// <summary>True when rows of this type can be turned into floats (and so used as weights).</summary>
    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1
        or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>Dequantizes <paramref name="dst"/>.Length elements from whole blocks in <paramref name="src"/>.</summary>
    /// <exception cref="NotSupportedException">The type has no dequantizer here; the message names it.</exception>
    /// <exception cref="ArgumentException">The length is not whole blocks, or <paramref name="src"/> is too short.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!IsSupported(type))
            throw new NotSupportedException($"tensor type {GgmlTypeInfo.Name(type)} is not supported for dequantization");
        long need = GgmlTypeInfo.RowBytes(type, dst.Length);
        if (src.Length < need)
            throw new ArgumentException($"{dst.Length} {type} elements need {need} bytes, got {src.Length}", nameof(src));
        src = src[..(int)need];
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                break;
            case GgmlType.F16:
                // fp16 -> fp32 is exact, so the vectorized conversion equals ggml's scalar one bit for bit.
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src), dst);
                break;
            case GgmlType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = GgmlScalar.Bf16ToFloat(bf[i]);
                break;
            case GgmlType.Q8_0: BlockQ8_0.Dequantize(MemoryMarshal.Cast<byte, BlockQ8_0>(src), dst); break;
            case GgmlType.Q4_0: BlockQ4_0.Dequantize(MemoryMarshal.Cast<byte, BlockQ4_0>(src), dst); break;
            case GgmlType.Q4_1: BlockQ4_1.Dequantize(MemoryMarshal.Cast<byte, BlockQ4_1>(src), dst); break;
            case GgmlType.Q5_0: BlockQ5_0.Dequantize(MemoryMarshal.Cast<byte, BlockQ5_0>(src), dst); break;
            case GgmlType.Q5_1: BlockQ5_1.Dequantize(MemoryMarshal.Cast<byte, BlockQ5_1>(src), dst); break;
            case GgmlType.Q2_K: BlockQ2_K.Dequantize(MemoryMarshal.Cast<byte, BlockQ2_K>(src), dst); break;
            case GgmlType.Q3_K: BlockQ3_K.Dequantize(MemoryMarshal.Cast<byte, BlockQ3_K>(src), dst); break;
            case GgmlType.Q4_K: BlockQ4_K.Dequantize(MemoryMarshal.Cast<byte, BlockQ4_K>(src), dst); break;
            case GgmlType.Q5_K: BlockQ5_K.Dequantize(MemoryMarshal.Cast<byte, BlockQ5_K>(src), dst); break;
            case GgmlType.Q6_K: BlockQ6_K.Dequantize(MemoryMarshal.Cast<byte, BlockQ6_K>(src), dst); break;
        }
    }
}
