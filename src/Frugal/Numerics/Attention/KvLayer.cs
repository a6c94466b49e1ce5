namespace Frugal.Numerics.Attention;

/// <summary>
/// One layer's K and V memory in a paged cache, as the attention kernel reads it. Block-major: KV head h of block b
/// holds that head's rows of the block's <see cref="BlockSize"/> positions at ((b·kvHeads + h)·blockSize)·headBytes,
/// so one head of one block is one contiguous segment. Inside a segment, positions come in tiles of
/// <see cref="KvTile.Positions"/>: f16 and f32 keys are stored dimension-major per tile ([headDim][16], so 16 keys' element d
/// are one vector and q·Kᵀ needs no transpose); values, and q8_0/q4_0 keys, are position-major ggml rows; KIVI keys
/// and values are coded as <see cref="KiviCodec"/> says. A KIVI layer also points at its f16 residual: slot s of
/// <see cref="ResidualKeys"/> / <see cref="ResidualValues"/> holds, per KV head, a block in the f16 layout, and
/// <see cref="SlotOfBlock"/>[b] says which slot holds block b (−1: read the codes). KIVI keys are coded in
/// <see cref="KeyBasis"/> (before RoPE, rotated): readers give the sequence position of what they read.
/// The pointers must stay valid (pinned) for as long as the view is used.
/// </summary>
public readonly unsafe struct KvLayer
{
    public KvLayer(byte* keys, byte* values, KvCacheTypes types, int blockSize, int kvHeads, int headDim,
        int* slotOfBlock = null, byte* residualKeys = null, byte* residualValues = null, KiviKeyBasis? keyBasis = null)
    {
        KvElementTypes.CheckBlockSize(types, blockSize);
        types.CheckHeadDim(headDim);
        if ((KvElementTypes.IsKivi(types.Keys) && (slotOfBlock == null || residualKeys == null)) ||
            (KvElementTypes.IsKivi(types.Values) && (slotOfBlock == null || residualValues == null)))
            throw new ArgumentException($"{types} needs its f16 residual (a slot map and a residual area per KIVI side)");
        if (KvElementTypes.IsKivi(types.Keys) && keyBasis is null)
            throw new ArgumentException($"{types} needs the basis its keys are coded in", nameof(keyBasis));
        Keys = keys;
        Values = values;
        Types = types;
        BlockSize = blockSize;
        KvHeads = kvHeads;
        HeadDim = headDim;
        KeyHeadBytes = KvElementTypes.IsKivi(types.Keys) ? 0 : KvElementTypes.HeadBytes(types.Keys, headDim);
        ValueHeadBytes = KvElementTypes.HeadBytes(types.Values, headDim);
        KeySegmentBytes = KvElementTypes.KeySegmentBytes(types.Keys, headDim, blockSize);
        ValueSegmentBytes = KvElementTypes.ValueSegmentBytes(types.Values, headDim, blockSize);
        SlotOfBlock = slotOfBlock;
        ResidualKeys = residualKeys;
        ResidualValues = residualValues;
        KeyBasis = keyBasis;
    }

    public byte* Keys { get; }
    public byte* Values { get; }
    public KvCacheTypes Types { get; }
    public int BlockSize { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    /// <summary>Bytes of one position's key row; 0 for KIVI keys, which are coded per block (<see cref="KeySegmentBytes"/>).</summary>
    public int KeyHeadBytes { get; }
    public int ValueHeadBytes { get; }
    public int KeySegmentBytes { get; }
    public int ValueSegmentBytes { get; }
    public int* SlotOfBlock { get; }
    public byte* ResidualKeys { get; }
    public byte* ResidualValues { get; }
    /// <summary>KIVI keys: the basis they are coded in (<see cref="KiviKeyBasis"/>); null for other key types.</summary>
    public KiviKeyBasis? KeyBasis { get; }

    /// <summary>Bytes of K (or V) one block takes in one layer: kvHeads segments.</summary>
    public static long BlockBytes(int kvHeads, int segmentBytes) => (long)kvHeads * segmentBytes;

    /// <summary>The key segment of one head in one block: [blockSize positions of that head].</summary>
    public byte* KeySegment(int block, int head) => Keys + ((long)block * KvHeads + head) * KeySegmentBytes;

    public byte* ValueSegment(int block, int head) => Values + ((long)block * KvHeads + head) * ValueSegmentBytes;

    /// <summary>The residual slot holding <paramref name="block"/> in f16, or −1 (not a KIVI layer, or the block is coded).</summary>
    public int ResidualSlot(int block) => SlotOfBlock == null ? -1 : SlotOfBlock[block];

    /// <summary>Keys of one head in residual slot <paramref name="slot"/>: f16 tiles [blockSize / 16][headDim][16].</summary>
    public byte* ResidualKeySegment(int slot, int head) => ResidualKeys + ((long)slot * KvHeads + head) * BlockSize * HeadDim * 2;

    /// <summary>Values of one head in residual slot <paramref name="slot"/>: f16 rows [blockSize][headDim].</summary>
    public byte* ResidualValueSegment(int slot, int head) => ResidualValues + ((long)slot * KvHeads + head) * BlockSize * HeadDim * 2;
}
