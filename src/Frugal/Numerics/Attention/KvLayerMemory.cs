using Frugal.Numerics.Ops;

namespace Frugal.Numerics.Attention;

/// <summary>
/// The pinned memory of one layer's K and V in a paged cache: <see cref="Blocks"/> blocks laid out as
/// <see cref="KvLayer"/> describes, and for KIVI types the f16 residual of blocks being filled
/// (<see cref="KiviResidual"/>). Owns the bytes; hands the kernel a pointer view.
/// </summary>
public sealed unsafe class KvLayerMemory
{
    private readonly byte[] _keys;     // [blocks · kvHeads · keySegmentBytes]
    private readonly byte[] _values;   // [blocks · kvHeads · valueSegmentBytes]
    private readonly KiviResidual? _residual;

    /// <param name="residualSlots">f16 block slots for KIVI types (one per sequence that may be filling a block at once); ignored otherwise.</param>
    /// <param name="keyRope">the model's RoPE, which KIVI keys are coded without (<see cref="KiviKeyBasis"/>); null: keys carry none.</param>
    public KvLayerMemory(int blocks, int blockSize, int kvHeads, int headDim, KvCacheTypes types, int residualSlots = 1, RopeSpec? keyRope = null)
    {
        KvElementTypes.CheckBlockSize(types, blockSize);
        types.CheckHeadDim(headDim);
        KeyBlockBytes = KvLayer.BlockBytes(kvHeads, KvElementTypes.KeySegmentBytes(types.Keys, headDim, blockSize));
        ValueBlockBytes = KvLayer.BlockBytes(kvHeads, KvElementTypes.ValueSegmentBytes(types.Values, headDim, blockSize));
        if (blocks * Math.Max(KeyBlockBytes, ValueBlockBytes) > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(blocks), $"{blocks} blocks of {Math.Max(KeyBlockBytes, ValueBlockBytes)} bytes exceed one array per layer");
        _keys = GC.AllocateArray<byte>((int)(blocks * KeyBlockBytes), pinned: true);
        _values = GC.AllocateArray<byte>((int)(blocks * ValueBlockBytes), pinned: true);
        if (KvElementTypes.IsKivi(types.Keys) || KvElementTypes.IsKivi(types.Values))
            _residual = new KiviResidual(blocks, residualSlots, blockSize, kvHeads, headDim, types);
        int* map = null;
        byte* rk = null, rv = null;
        _residual?.Pointers(out map, out rk, out rv);
        fixed (byte* k = _keys, v = _values)
            View = new KvLayer(k, v, types, blockSize, kvHeads, headDim, map, rk, rv,
                KvElementTypes.IsKivi(types.Keys) ? new KiviKeyBasis(headDim, blocks * blockSize, keyRope) : null);
        Blocks = blocks;
    }

    public int Blocks { get; }

    public long KeyBlockBytes { get; }

    public long ValueBlockBytes { get; }

    /// <summary>Bytes of the f16 residual area (0 unless K or V is a KIVI type).</summary>
    public long ResidualBytes => _residual?.Bytes ?? 0;

    /// <summary>The KIVI residual, for tests and the store's figures; null for other types.</summary>
    internal KiviResidual? Residual => _residual;

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
            _residual?.BeforeWrite(view, block, slot, p - slot);
            for (int h = 0; h < view.KvHeads; h++)
            {
                KvTile.StoreKey(view, block, slot, h, keys.Slice(i * kvDim + h * hd, hd));
                KvTile.StoreValue(view, block, slot, h, values.Slice(i * kvDim + h * hd, hd));
            }
            _residual?.AfterWrite(view, block, slot);
        }
    }

    /// <summary>Copies one block's K/V over another's, with its f16 residual where it has one.</summary>
    public void CopyBlock(int source, int destination)
    {
        _residual?.Copy(View, source, destination);
        Array.Copy(_keys, source * KeyBlockBytes, _keys, destination * KeyBlockBytes, KeyBlockBytes);
        Array.Copy(_values, source * ValueBlockBytes, _values, destination * ValueBlockBytes, ValueBlockBytes);
    }
}
