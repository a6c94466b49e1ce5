namespace Frugal.Numerics.Attention;

/// <summary>
/// How one K or V element is stored in the paged KV cache, as llama.cpp's <c>--cache-type-k/-v</c>: f16 (the default),
/// f32 (exact), or ggml's q8_0 / q4_0 blocks of 32 elements along the head dimension with one fp16 scale each.
/// </summary>
public enum KvElementType
{
    F16 = 0,
    F32 = 1,
    Q8_0 = 2,
    Q4_0 = 3,
}

/// <summary>Names, sizes and checks of <see cref="KvElementType"/>.</summary>
public static class KvElementTypes
{
    /// <summary>The names the command line and the server accept, as llama.cpp spells them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["f16", "f32", "q8_0", "q4_0"];

    public static string Name(KvElementType type) => type switch
    {
        KvElementType.F16 => "f16",
        KvElementType.F32 => "f32",
        KvElementType.Q8_0 => "q8_0",
        KvElementType.Q4_0 => "q4_0",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown KV element type"),
    };

    /// <exception cref="ArgumentException">the name is none of <see cref="Names"/>; the message lists them.</exception>
    public static KvElementType Parse(string name)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "f16": return KvElementType.F16;
            case "f32": return KvElementType.F32;
            case "q8_0": return KvElementType.Q8_0;
            case "q4_0": return KvElementType.Q4_0;
            default: throw new ArgumentException($"unknown KV cache type '{name}': expected one of {string.Join(", ", Names)}", nameof(name));
        }
    }

    /// <summary>The ggml type whose row format this element type stores (for quantizers and dequantizers).</summary>
    internal static GgmlType GgmlTypeOf(KvElementType type) => type switch
    {
        KvElementType.F16 => GgmlType.F16,
        KvElementType.F32 => GgmlType.F32,
        KvElementType.Q8_0 => GgmlType.Q8_0,
        KvElementType.Q4_0 => GgmlType.Q4_0,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown KV element type"),
    };

    /// <summary>Bytes of one head's row (one position of one KV head): what llama.cpp's cache spends per element times head size.</summary>
    public static int HeadBytes(KvElementType type, int headDim) => type switch
    {
        KvElementType.F16 => headDim * 2,
        KvElementType.F32 => headDim * 4,
        KvElementType.Q8_0 => headDim / 32 * 34,
        KvElementType.Q4_0 => headDim / 32 * 18,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown KV element type"),
    };

    /// <exception cref="NotSupportedException">a block type needs a head size that is a multiple of its 32-element block.</exception>
    public static void CheckHeadDim(KvElementType type, int headDim)
    {
        if (headDim <= 0) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, "the head size must be positive");
        if (type is KvElementType.Q8_0 or KvElementType.Q4_0 && headDim % 32 != 0)
            throw new NotSupportedException($"KV cache type {Name(type)} stores blocks of 32 elements per head; this model's head size is {headDim}. Use f16.");
    }
}

/// <summary>
/// The element types of the K and of the V cache, and whether keys are stored rotated: with <see cref="RotateKeys"/>
/// each key head row is multiplied by the normalized Walsh-Hadamard matrix before it is encoded and each query head
/// row by the same matrix before attention (q·k is unchanged; V is untouched), which spreads outlier channels before
/// a block quantizer sees them. Needs a power-of-two head size.
/// </summary>
public readonly record struct KvCacheTypes(KvElementType Keys, KvElementType Values, bool RotateKeys = false)
{
    /// <summary>f16 keys and values, llama.cpp's default.</summary>
    public static KvCacheTypes Default => new(KvElementType.F16, KvElementType.F16);

    /// <summary>Bytes of K and V of one position in one layer.</summary>
    public int BytesPerLayerPosition(int kvHeads, int headDim) =>
        kvHeads * (KvElementTypes.HeadBytes(Keys, headDim) + KvElementTypes.HeadBytes(Values, headDim));

    /// <exception cref="NotSupportedException">a block type needs a multiple of 32, or rotation a power of two.</exception>
    public void CheckHeadDim(int headDim)
    {
        KvElementTypes.CheckHeadDim(Keys, headDim);
        KvElementTypes.CheckHeadDim(Values, headDim);
        if (RotateKeys && !WalshHadamard.Fits(headDim))
            throw new NotSupportedException($"rotating keys (Walsh-Hadamard) needs a power-of-two head size; this model's head size is {headDim}.");
    }

    public override string ToString() => $"K {KvElementTypes.Name(Keys)}{(RotateKeys ? " rotated" : "")}, V {KvElementTypes.Name(Values)}";
}
