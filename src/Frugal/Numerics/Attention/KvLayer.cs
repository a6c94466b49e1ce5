namespace Frugal.Numerics.Attention;

/// <summary>
/// One layer's K and V memory in a paged cache, as the attention kernel reads it. Block-major: KV head h of block b
/// holds that head's rows of the block's <see cref="BlockSize"/> positions at ((b·kvHeads + h)·blockSize)·headBytes,
/// so one head of one block is one contiguous segment. Inside a segment, positions come in tiles of
/// <see cref="KvTile.Positions"/>: f16 and f32 keys are stored dimension-major per tile ([headDim][16], so 16 keys' element d
/// are one vector and q·Kᵀ needs no transpose); values, and q8_0/q4_0 keys, are position-major ggml rows.
/// The pointers must stay valid (pinned) for as long as the view is used.
/// </summary>
public readonly unsafe struct KvLayer
{
    public KvLayer(byte* keys, byte* values, KvCacheTypes types, int blockSize, int kvHeads, int headDim)
    {
        if (blockSize <= 0 || blockSize % KvTile.Positions != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, $"a KV block holds a whole number of {KvTile.Positions}-position tiles");
        types.CheckHeadDim(headDim);
        Keys = keys;
        Values = values;
        Types = types;
        BlockSize = blockSize;
        KvHeads = kvHeads;
        HeadDim = headDim;
        KeyHeadBytes = KvElementTypes.HeadBytes(types.Keys, headDim);
        ValueHeadBytes = KvElementTypes.HeadBytes(types.Values, headDim);
    }

    public byte* Keys { get; }
    public byte* Values { get; }
    public KvCacheTypes Types { get; }
    public int BlockSize { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public int KeyHeadBytes { get; }
    public int ValueHeadBytes { get; }

    /// <summary>Bytes of K (or V: <paramref name="headBytes"/>) one block takes in one layer.</summary>
    public static long BlockBytes(int blockSize, int kvHeads, int headBytes) => (long)blockSize * kvHeads * headBytes;

    /// <summary>The key segment of one head in one block: [blockSize positions of that head].</summary>
    public byte* KeySegment(int block, int head) => Keys + ((long)block * KvHeads + head) * BlockSize * KeyHeadBytes;

    public byte* ValueSegment(int block, int head) => Values + ((long)block * KvHeads + head) * BlockSize * ValueHeadBytes;
}
