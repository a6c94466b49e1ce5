namespace Frugal.Numerics;

/// <summary>Block geometry of each ggml type: how many elements one block holds and how many bytes it takes.</summary>
public static class GgmlTypeInfo
{
    /// <summary>Elements per block for every quant block format.</summary>
    public const int QK = 32;

    /// <summary>Elements per super-block of the k-quants.</summary>
    public const int QK_K = 256;

    private static readonly Dictionary<GgmlType, (int BlockSize, int TypeSize)> Layout = new()
    {
        [GgmlType.F32] = (1, 4),
        [GgmlType.F16] = (1, 2),
        [GgmlType.BF16] = (1, 2),
        [GgmlType.F64] = (1, 8),
        [GgmlType.I8] = (1, 1),
        [GgmlType.I16] = (1, 2),
        [GgmlType.I32] = (1, 4),
        [GgmlType.I64] = (1, 8),
        [GgmlType.Q4_0] = (QK, 18),
        [GgmlType.Q4_1] = (QK, 20),
        [GgmlType.Q5_0] = (QK, 22),
        [GgmlType.Q5_1] = (QK, 24),
        [GgmlType.Q8_0] = (QK, 34),
        [GgmlType.Q8_1] = (QK, 36),
        [GgmlType.Q2_K] = (QK_K, 84),
        [GgmlType.Q3_K] = (QK_K, 110),
        [GgmlType.Q4_K] = (QK_K, 144),
        [GgmlType.Q5_K] = (QK_K, 176),
        [GgmlType.Q6_K] = (QK_K, 210),
        [GgmlType.Q8_K] = (QK_K, 292),
        [GgmlType.IQ2_XXS] = (QK_K, 66),
        [GgmlType.IQ2_XS] = (QK_K, 74),
        [GgmlType.IQ3_XXS] = (QK_K, 98),
        [GgmlType.IQ1_S] = (QK_K, 50),
        [GgmlType.IQ4_NL] = (QK, 18),
        [GgmlType.IQ3_S] = (QK_K, 110),
        [GgmlType.IQ2_S] = (QK_K, 82),
        [GgmlType.IQ4_XS] = (QK_K, 136),
        [GgmlType.IQ1_M] = (QK_K, 56),
        [GgmlType.TQ1_0] = (QK_K, 54),
        [GgmlType.TQ2_0] = (QK_K, 66),
        [GgmlType.MXFP4] = (QK, 17),
    };

    /// <summary>True when the id names a type whose block layout is known (it may still be unsupported for compute).</summary>
    public static bool IsKnown(GgmlType type) => Layout.ContainsKey(type);

    public static int BlockSize(GgmlType type) => Get(type).BlockSize;

    public static int TypeSize(GgmlType type) => Get(type).TypeSize;

    /// <summary>Bytes taken by <paramref name="elements"/> consecutive elements; the count must be a whole number of blocks.</summary>
    public static long RowBytes(GgmlType type, long elements)
    {
        var (bs, ts) = Get(type);
        if (elements % bs != 0)
            throw new ArgumentException($"{elements} elements is not a multiple of the {type} block size {bs}", nameof(elements));
        return elements / bs * ts;
    }

    /// <summary>The ggml name of a type id, or "type#N" for an id ggml does not define.</summary>
    public static string Name(GgmlType type) => Enum.IsDefined(type) ? type.ToString() : $"type#{(uint)type}";

    private static (int BlockSize, int TypeSize) Get(GgmlType type) =>
        Layout.TryGetValue(type, out var l) ? l : throw new NotSupportedException($"unknown ggml tensor type {Name(type)}");
}
