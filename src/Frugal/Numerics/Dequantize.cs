namespace Frugal.Numerics;

/// <summary>
/// Rows of a ggml type to floats, through the type's row of <see cref="WeightTypes"/> (each format's code lives in
/// Numerics/Quant, bit-exact with ggml's dequantize_row_*); this class checks the lengths and routes.
/// </summary>
public static class Dequantize
{
    /// <summary>True when rows of this type can be turned into floats (and so used as weights).</summary>
    public static bool IsSupported(GgmlType type) => WeightTypes.Find(type)?.Dequantize is not null;

    /// <summary>Dequantizes <paramref name="dst"/>.Length elements from whole blocks in <paramref name="src"/>.</summary>
    /// <exception cref="NotSupportedException">The type has no dequantizer here; the message names it.</exception>
    /// <exception cref="ArgumentException">The length is not whole blocks, or <paramref name="src"/> is too short.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        var dequantize = WeightTypes.Find(type)?.Dequantize
            ?? throw new NotSupportedException($"tensor type {GgmlTypeInfo.Name(type)} is not supported for dequantization");
        long need = GgmlTypeInfo.RowBytes(type, dst.Length);
        if (src.Length < need)
            throw new ArgumentException($"{dst.Length} {type} elements need {need} bytes, got {src.Length}", nameof(src));
        dequantize(src[..(int)need], dst);
    }
}
