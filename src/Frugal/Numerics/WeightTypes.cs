using System.Collections.Frozen;
using System.Numerics.Tensors;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Quant;
using static System.Runtime.InteropServices.MemoryMarshal;

namespace Frugal.Numerics;

/// <summary>
/// The registry of tensor types the engine computes with, one row each: row dequantizer and quantizer (each format's
/// code lives in Numerics/Quant, bit-exact with ggml), the kernel family and format whose per-path row kernels
/// <see cref="WeightType.Share"/> runs, and the repacked layout where one pays (its kernel struct, repack function and
/// CPU check). <see cref="Dequantize"/>, <see cref="Quantize"/>, <see cref="WeightMatrix"/> and <see cref="MatMul"/>
/// look types up here; adding a type means adding its row.
/// </summary>
internal static unsafe class WeightTypes
{
    private static readonly WeightType[] Rows =
    [
        new FloatWeight<F32Elements, NotRepacked>(GgmlType.F32, (s, d) => Cast<byte, float>(s).CopyTo(d), (s, d) => s.CopyTo(Cast<byte, float>(d))),
        // fp16 -> fp32 is exact, so the vectorized conversion equals ggml's scalar one bit for bit.
        // F16 rows are regrouped at load into 16-row element-major groups: 16 dot products per FMA, no horizontal sums.
        new FloatWeight<F16Elements, F16x16Kernel>(GgmlType.F16, (s, d) => TensorPrimitives.ConvertToSingle(Cast<byte, Half>(s), d), F32ToF16,
            F16x16.Repack),
        new FloatWeight<Bf16Elements, NotRepacked>(GgmlType.BF16, Bf16ToF32, F32ToBf16),

        new Block32Weight<Q4_0Format, Q4_0x16Kernel>(GgmlType.Q4_0,
            (s, d) => BlockQ4_0.Dequantize(Cast<byte, BlockQ4_0>(s), d), (s, d) => BlockQ4_0.Quantize(s, Cast<byte, BlockQ4_0>(d)),
            Q4_0x16.Repack),
        new Block32Weight<Q4_1Format, NotRepacked>(GgmlType.Q4_1,
            (s, d) => BlockQ4_1.Dequantize(Cast<byte, BlockQ4_1>(s), d), (s, d) => BlockQ4_1.Quantize(s, Cast<byte, BlockQ4_1>(d))),
        // Q5_0 is widened to the Q8_0 layout at load: 64% more bytes, and the faster kernel.
        new Block32Weight<Q5_0Format, Q8_0x16Kernel>(GgmlType.Q5_0,
            (s, d) => BlockQ5_0.Dequantize(Cast<byte, BlockQ5_0>(s), d), (s, d) => BlockQ5_0.Quantize(s, Cast<byte, BlockQ5_0>(d)),
            Q8_0x16.RepackQ5_0),
        new Block32Weight<Q5_1Format, NotRepacked>(GgmlType.Q5_1,
            (s, d) => BlockQ5_1.Dequantize(Cast<byte, BlockQ5_1>(s), d), (s, d) => BlockQ5_1.Quantize(s, Cast<byte, BlockQ5_1>(d))),
        new Block32Weight<Q8_0Format, Q8_0x16Kernel>(GgmlType.Q8_0,
            (s, d) => BlockQ8_0.Dequantize(Cast<byte, BlockQ8_0>(s), d), (s, d) => BlockQ8_0.Quantize(s, Cast<byte, BlockQ8_0>(d)),
            Q8_0x16.Repack),

        new KQuantWeight<Q2_KFormat, NotRepacked>(GgmlType.Q2_K,
            (s, d) => BlockQ2_K.Dequantize(Cast<byte, BlockQ2_K>(s), d), (s, d) => BlockQ2_K.Quantize(s, Cast<byte, BlockQ2_K>(d))),
        new KQuantWeight<Q3_KFormat, NotRepacked>(GgmlType.Q3_K,
            (s, d) => BlockQ3_K.Dequantize(Cast<byte, BlockQ3_K>(s), d), (s, d) => BlockQ3_K.Quantize(s, Cast<byte, BlockQ3_K>(d))),
        new KQuantWeight<Q4_KFormat, Q4_Kx16Kernel>(GgmlType.Q4_K,
            (s, d) => BlockQ4_K.Dequantize(Cast<byte, BlockQ4_K>(s), d), (s, d) => BlockQ4_K.Quantize(s, Cast<byte, BlockQ4_K>(d)),
            Q4_Kx16.Repack),
        new KQuantWeight<Q5_KFormat, Q5_Kx16Kernel>(GgmlType.Q5_K,
            (s, d) => BlockQ5_K.Dequantize(Cast<byte, BlockQ5_K>(s), d), (s, d) => BlockQ5_K.Quantize(s, Cast<byte, BlockQ5_K>(d)),
            Q5_Kx16.Repack),
        new KQuantWeight<Q6_KFormat, Q6_Kx16Kernel>(GgmlType.Q6_K,
            (s, d) => BlockQ6_K.Dequantize(Cast<byte, BlockQ6_K>(s), d), (s, d) => BlockQ6_K.Quantize(s, Cast<byte, BlockQ6_K>(d)),
            Q6_Kx16.Repack),

        // The I-quants with a 16-level non-linear table; dequantize-only (quantizing to them needs ggml's scale search).
        // IQ4_NL shares Q4_0's block bytes, so it takes Q4_0's 16-row layout; its kernel looks the levels up per block.
        new Block32Weight<IQ4_NLFormat, IQ4_NLx16Kernel>(GgmlType.IQ4_NL,
            (s, d) => BlockIQ4_NL.Dequantize(Cast<byte, BlockIQ4_NL>(s), d), quantize: null, Q4_0x16.Repack),
        new KQuantWeight<IQ4_XSFormat, IQ4_XSx16Kernel>(GgmlType.IQ4_XS,
            (s, d) => BlockIQ4_XS.Dequantize(Cast<byte, BlockIQ4_XS>(s), d), quantize: null, IQ4_XSx16.Repack),

        new QuantizeOnlyType(GgmlType.Q8_K, (s, d) => BlockQ8_K.Quantize(s, Cast<byte, BlockQ8_K>(d))),
    ];

    private static readonly FrozenDictionary<GgmlType, WeightType> ByType = Rows.ToFrozenDictionary(t => t.Type);

    /// <summary>The entry of <paramref name="type"/>, or null where the engine cannot compute with it.</summary>
    public static WeightType? Find(GgmlType type) => ByType.GetValueOrDefault(type);

    /// <summary>The types a <see cref="WeightMatrix"/> can hold, by ggml name, in registry order.</summary>
    public static IEnumerable<string> WeightNames => Rows.Where(t => t.IsWeight).Select(t => GgmlTypeInfo.Name(t.Type));

    /// <summary>
    /// The error for a tensor of a type the engine cannot compute with (IQ1_S, IQ2_*, IQ3_*, TQ*, MXFP4, ...): it names
    /// the tensor and the type and lists the types that are supported.
    /// </summary>
    public static NotSupportedException Unsupported(string tensor, GgmlType type) => new(
        $"tensor '{tensor}' has type {GgmlTypeInfo.Name(type)}, which is not supported (supported weight types: {string.Join(", ", WeightNames)})");

    private static void F32ToF16(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var h = Cast<byte, ushort>(dst);
        for (int i = 0; i < src.Length; i++) h[i] = GgmlScalar.FloatToFp16(src[i]);
    }

    private static void Bf16ToF32(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var bf = Cast<byte, ushort>(src);
        for (int i = 0; i < dst.Length; i++) dst[i] = GgmlScalar.Bf16ToFloat(bf[i]);
    }

    private static void F32ToBf16(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var bf = Cast<byte, ushort>(dst);
        for (int i = 0; i < src.Length; i++) bf[i] = GgmlScalar.FloatToBf16(src[i]);
    }
}
