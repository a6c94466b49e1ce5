namespace Frugal.Numerics.Attention;

/// <summary>
/// The pinned memory of one layer's K and V in a paged cache: <see cref="Blocks"/> blocks laid out as
/// <see cref="KvLayer"/> describes. Owns the bytes; hands the kernel a pointer view.
/// </summary>
public sealed unsafe class KvLayerMemory
{
    private readonly byte[] _keys;     // [blocks · kvHeads · blockSize · keyHeadBytes]
    private readonly byte[] _values;   // [blocks · kvHeads · blockSize · valueHeadBytes]

    public KvLayerMemory(int blocks, int blockSize, int kvHeads, int headDim, KvCacheTypes types)
    {
        types.CheckHeadDim(headDim);
        KeyBlockBytes = KvLayer.BlockBytes(blockSize, kvHeads, KvElementTypes.HeadBytes(types.Keys, headDim));
        ValueBlockBytes = KvLayer.BlockBytes(blockSize, kvHeads, KvElementTypes.HeadBytes(types.Values, headDim));
        if (blocks * Math.Max(KeyBlockBytes, ValueBlockBytes) > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(blocks), $"{blocks} blocks of {Math.Max(KeyBlockBytes, ValueBlockBytes)} bytes exceed one array per layer");
        _keys = GC.AllocateArray<byte>((int)(blocks * KeyBlockBytes), pinned: true);
        _values = GC.AllocateArray<byte>((int)(blocks * ValueBlockBytes), pinned: true);
        fixed (byte* k = _keys, v = _values)
            View = new KvLayer(k, v, types, blockSize, kvHeads, headDim);
        Blocks = blocks;
    }

    public int Blocks { get; }

    public long KeyBlockBytes { get; }

    public long ValueBlockBytes { get; }

    /// <summary>The kernel's view; valid for the lifetime of this object (the arrays are pinned).</summary>
    public KvLayer View { get; }

    /// <summary>Encodes <paramref name="count"/> positions' keys and values ([count, kvHeads·headDim] each) into their blocks.</summary>
    public void Write(IReadOnlyList<int> blockTable, int start, int count, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        var view = View;
        int hd = view.HeadDim, kvDim = view.KvHeads * hd, bs = view.BlockSize;
        for (int i = 0; i < count; i++)
        {
            int p = start + i, block = blockTable[p / bs], slot = p % bs;
            if ((uint)block >= (uint)Blocks) throw new ArgumentOutOfRangeException(nameof(blockTable), $"block {block} is outside [0, {Blocks})");
            for (int h = 0; h < view.KvHeads; h++)
            {
                KvTile.StoreKey(view, block, slot, h, keys.Slice(i * kvDim + h * hd, hd));
                KvTile.StoreValue(view, block, slot, h, values.Slice(i * kvDim + h * hd, hd));
            }
        }
    }

    /// <summary>Copies one block's K/V over another's.</summary>
    public void CopyBlock(int source, int destination)
    {
        Array.Copy(_keys, source * KeyBlockBytes, _keys, destination * KeyBlockBytes, KeyBlockBytes);
        Array.Copy(_values, source * ValueBlockBytes, _values, destination * ValueBlockBytes, ValueBlockBytes);
    }
}
