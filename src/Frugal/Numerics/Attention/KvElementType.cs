namespace Frugal.Numerics.Attention;

/// <summary>
/// How one K or V element is stored in the paged KV cache, as llama.cpp's <c>--cache-type-k/-v</c>: f16 (the default),
/// f32 (exact), ggml's q8_0 / q4_0 blocks of 32 elements along the head dimension with one fp16 scale each, or KIVI's
/// asymmetric 2- and 4-bit codes (<see cref="KiviCodec"/>: keys per channel over a block, values per token over 64
/// channels (32 where the head size is not a multiple of 64), the block being filled kept in f16).
/// </summary>
public enum KvElementType
{
    F16 = 0,
    F32 = 1,
    Q8_0 = 2,
    Q4_0 = 3,
    Kivi2 = 4,
    Kivi4 = 5,
}

/// <summary>Names, sizes and checks of <see cref="KvElementType"/>.</summary>
public static class KvElementTypes
{
    /// <summary>The names the command line and the server accept, as llama.cpp spells them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["f16", "f32", "q8_0", "q4_0", "kivi2", "kivi4"];

    /// <summary>Block size a single sequence's cache and the engine use by default: one attention tile, or <see cref="KiviCodec.DefaultBlockSize"/> for KIVI.</summary>
    public static int DefaultBlockSize(KvCacheTypes types) =>
        IsKivi(types.Keys) || IsKivi(types.Values) ? KiviCodec.DefaultBlockSize : KvTile.Positions;

    /// <summary>KIVI's 2- or 4-bit codes, which keep the block being filled in an f16 residual.</summary>
    public static bool IsKivi(KvElementType type) => type is KvElementType.Kivi2 or KvElementType.Kivi4;

    /// <summary>Bits of one KIVI code (2 or 4); 0 for the other types.</summary>
    public static int KiviBits(KvElementType type) => type switch { KvElementType.Kivi2 => 2, KvElementType.Kivi4 => 4, _ => 0 };

    public static string Name(KvElementType type) => type switch
    {
        KvElementType.F16 => "f16",
        KvElementType.F32 => "f32",
        KvElementType.Q8_0 => "q8_0",
        KvElementType.Q4_0 => "q4_0",
        KvElementType.Kivi2 => "kivi2",
        KvElementType.Kivi4 => "kivi4",
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
            case "kivi2": return KvElementType.Kivi2;
            case "kivi4": return KvElementType.Kivi4;
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

    /// <summary>
    /// Bytes of one head's row (one position of one KV head): what llama.cpp's cache spends per element times head size.
    /// For KIVI this is a value row (codes and each value group's scale and minimum); KIVI keys are counted per
    /// block (<see cref="KeySegmentBytes"/>).
    /// </summary>
    public static int HeadBytes(KvElementType type, int headDim) => type switch
    {
        KvElementType.F16 => headDim * 2,
        KvElementType.F32 => headDim * 4,
        KvElementType.Q8_0 => headDim / 32 * 34,
        KvElementType.Q4_0 => headDim / 32 * 18,
        KvElementType.Kivi2 or KvElementType.Kivi4 => KiviCodec.ValueRowBytes(KiviBits(type), headDim),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown KV element type"),
    };

    /// <summary>Bytes of one KV head's keys of one block.</summary>
    public static int KeySegmentBytes(KvElementType type, int headDim, int blockSize) =>
        IsKivi(type) ? KiviCodec.KeySegmentBytes(KiviBits(type), headDim, blockSize) : blockSize * HeadBytes(type, headDim);

    /// <summary>Bytes of one KV head's values of one block (rows of one position each, for every type).</summary>
    public static int ValueSegmentBytes(KvElementType type, int headDim, int blockSize) => blockSize * HeadBytes(type, headDim);

    /// <exception cref="NotSupportedException">a block type needs a head size that is a multiple of its 32-element block.</exception>
    public static void CheckHeadDim(KvElementType type, int headDim)
    {
        if (headDim <= 0) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, "the head size must be positive");
        if (type is KvElementType.Q8_0 or KvElementType.Q4_0 && headDim % 32 != 0)
            throw new NotSupportedException($"KV cache type {Name(type)} stores blocks of 32 elements per head; this model's head size is {headDim}. Use f16.");
        if (IsKivi(type) && headDim % KiviCodec.ValueRun != 0)
            throw new NotSupportedException($"KV cache type {Name(type)} quantizes values in groups of {KiviCodec.ValueRun} channels; this model's head size is {headDim}. Use f16.");
    }

    /// <exception cref="ArgumentOutOfRangeException">
    /// the block size is not a whole number of attention tiles, or a KIVI type (whose keys are quantized per channel
    /// over a block) is given one of other than <see cref="KiviCodec.BlockSizes"/>.
    /// </exception>
    public static void CheckBlockSize(KvCacheTypes types, int blockSize)
    {
        if (blockSize <= 0 || blockSize % KvTile.Positions != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, $"a KV block holds a positive multiple of {KvTile.Positions} positions (the attention tile), got {blockSize}");
        foreach (var type in (ReadOnlySpan<KvElementType>)[types.Keys, types.Values])
            if (IsKivi(type) && Array.IndexOf(KiviCodec.BlockSizes, blockSize) < 0)
                throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize,
                    $"KV cache type {Name(type)} quantizes keys per channel over a whole block, so its scale and minimum cost 4 bytes per channel per block: " +
                    $"the block size must be one of {string.Join(", ", KiviCodec.BlockSizes)} (got {blockSize}; {KiviCodec.DefaultBlockSize} is the default)");
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

    /// <summary>
    /// Bytes of K and V of one position in one layer, in blocks of <paramref name="blockSize"/> (by default
    /// <see cref="KvElementTypes.DefaultBlockSize"/>): kvHeads · (K segment + V segment) / blockSize. Only KIVI keys
    /// depend on the block size (one scale and minimum per channel per block); a KIVI store's f16 residual is extra
    /// (<see cref="KiviCodec"/> gives the formula).
    /// </summary>
    public int BytesPerLayerPosition(int kvHeads, int headDim, int? blockSize = null)
    {
        int bs = blockSize ?? KvElementTypes.DefaultBlockSize(this);
        return kvHeads * (KvElementTypes.KeySegmentBytes(Keys, headDim, bs) + KvElementTypes.ValueSegmentBytes(Values, headDim, bs)) / bs;
    }

    /// <exception cref="NotSupportedException">a block type needs a multiple of 32, or rotation a power of two.</exception>
    public void CheckHeadDim(int headDim)
    {
        KvElementTypes.CheckHeadDim(Keys, headDim);
        KvElementTypes.CheckHeadDim(Values, headDim);
        if (KiviCodec.ExactKeys(KvElementTypes.KiviBits(Keys), KiviCodec.DefaultBlockSize) > 0 && headDim > KiviCodec.MaxExactKeyHeadDim)
            throw new NotSupportedException($"KV cache type {KvElementTypes.Name(Keys)} keeps a few key entries exact, indexed within {KiviCodec.MaxExactKeyHeadDim} channels; this model's head size is {headDim}. Use kivi4 or f16 keys.");
        if (RotateKeys && KvElementTypes.IsKivi(Keys))
            throw new NotSupportedException($"KV cache type {KvElementTypes.Name(Keys)} codes keys rotated already (before RoPE, Walsh-Hadamard rotated; see KiviKeyBasis): --kv-rotate applies to f16, q8_0 and q4_0 keys.");
        if (RotateKeys && !WalshHadamard.Fits(headDim))
            throw new NotSupportedException($"rotating keys (Walsh-Hadamard) needs a power-of-two head size; this model's head size is {headDim}.");
    }

    public override string ToString() => $"K {KvElementTypes.Name(Keys)}{(RotateKeys ? " rotated" : "")}, V {KvElementTypes.Name(Values)}";
}
