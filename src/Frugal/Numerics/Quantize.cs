namespace Frugal.Numerics;

/// <summary>
/// Float rows to a ggml type, through the type's row of <see cref="WeightTypes"/>. Each quantizer follows ggml's
/// reference (non-imatrix) quantize_row_*_ref, the path ggml_quantize_chunk takes without an importance matrix, and
/// produces the same bytes. Q8_K is the activation format of k-quant dot products; it has no dequantizer.
/// </summary>
public static class Quantize
{
    /// <summary>True when float rows can be quantized to this type.</summary>
    public static bool CanQuantizeTo(GgmlType type) => WeightTypes.Find(type)?.Quantize is not null;

    /// <summary>
    /// Quantizes all of <paramref name="src"/> (a whole number of blocks) into the first
    /// <see cref="GgmlTypeInfo.RowBytes"/> bytes of <paramref name="dst"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The type has no quantizer here; the message names it.</exception>
    /// <exception cref="ArgumentException">The length is not whole blocks, or <paramref name="dst"/> is too short.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        var quantize = WeightTypes.Find(type)?.Quantize
            ?? throw new NotSupportedException($"quantizing to tensor type {GgmlTypeInfo.Name(type)} is not supported");
        long need = GgmlTypeInfo.RowBytes(type, src.Length);
        if (dst.Length < need)
            throw new ArgumentException($"{src.Length} {type} elements need {need} bytes, got {dst.Length}", nameof(dst));
        quantize(src, dst[..(int)need]);
    }
}
