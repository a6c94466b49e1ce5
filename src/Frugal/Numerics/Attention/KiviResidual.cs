namespace Frugal.Numerics.Attention;

/// <summary>
/// KIVI's full-precision residual for one layer: a small pool of block-sized f16 slots (keys in the f16 tile layout,
/// values as rows) and a block → slot map. A block being filled lives in a slot; when its last position is written it
/// is coded (<see cref="KiviCodec"/>) into its packed place and the slot is freed, so at any time only the last,
/// partial block of each sequence costs f16. Attention reads a block from its slot while it has one.
/// <para>The store is not told when a block is freed, so slots are reclaimed two ways: a write at position 0 of a block
/// starts it afresh (reusing the slot it still holds), and when every slot is taken the least recently written one is
/// coded as it stands (its valid positions only) and given up. A write into the middle of a block that has no slot
/// (a truncated sequence, or a block whose slot was reclaimed) decodes the packed block into a slot first.</para>
/// </summary>
internal sealed unsafe class KiviResidual
{
    private readonly int[] _slotOfBlock;   // [blocks] slot holding the block, or -1 (pinned: the kernel reads it)
    private readonly int[] _blockOfSlot;   // [slots] block in the slot, or -1
    private readonly int[] _filled;        // [slots] positions 0.. written so far
    private readonly long[] _lastWrite;    // [slots] clock of the last write, for reclaiming
    private readonly int[] _firstPosition; // [slots] sequence position of the block's slot 0 (keys are coded in a position's basis)
    private readonly byte[] _keys;         // [slots · kvHeads · blockSize · headDim] f16, or empty when keys are not KIVI
    private readonly byte[] _values;       // [slots · kvHeads · blockSize · headDim] f16, or empty when values are not KIVI
    private long _clock;

    public KiviResidual(int blocks, int slots, int blockSize, int kvHeads, int headDim, KvCacheTypes types)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), slots, "a KIVI store needs at least one residual slot");
        Slots = slots;
        SlotBytes = (long)kvHeads * blockSize * headDim * 2;
        _slotOfBlock = GC.AllocateArray<int>(blocks, pinned: true);
        Array.Fill(_slotOfBlock, -1);
        _blockOfSlot = new int[slots];
        Array.Fill(_blockOfSlot, -1);
        _filled = new int[slots];
        _lastWrite = new long[slots];
        _firstPosition = new int[slots];
        _keys = GC.AllocateArray<byte>(KvElementTypes.IsKivi(types.Keys) ? checked((int)(slots * SlotBytes)) : 0, pinned: true);
        _values = GC.AllocateArray<byte>(KvElementTypes.IsKivi(types.Values) ? checked((int)(slots * SlotBytes)) : 0, pinned: true);
    }

    public int Slots { get; }

    /// <summary>f16 bytes of one slot of one side (K or V): kvHeads · blockSize · headDim · 2.</summary>
    public long SlotBytes { get; }

    /// <summary>Bytes of the whole residual area: slots · SlotBytes for each KIVI side.</summary>
    public long Bytes => _keys.LongLength + _values.LongLength;

    public int SlotOf(int block) => _slotOfBlock[block];

    public int Filled(int slot) => _filled[slot];

    /// <summary>The view's pointers to the slot map and the residual areas (pinned arrays: valid for this object's life).</summary>
    public void Pointers(out int* slotOfBlock, out byte* keys, out byte* values)
    {
        fixed (int* map = _slotOfBlock)
        fixed (byte* k = _keys, v = _values)
        {
            slotOfBlock = map;
            keys = _keys.Length == 0 ? null : k;
            values = _values.Length == 0 ? null : v;
        }
    }

    /// <summary>
    /// Makes ready to write position <paramref name="slot"/> of <paramref name="block"/>, which holds sequence positions
    /// from <paramref name="firstPosition"/>: at position 0 the block starts afresh; later, a block without a slot gets
    /// one holding its decoded packed positions.
    /// </summary>
    public void BeforeWrite(in KvLayer layer, int block, int slot, int firstPosition)
    {
        int s = _slotOfBlock[block];
        if (s < 0)
        {
            s = Take(layer, block);
            _filled[s] = 0;
            _firstPosition[s] = firstPosition;
            if (slot > 0)
            {
                Decode(layer, block, s);
                _filled[s] = slot;
            }
        }
        else if (slot == 0) _filled[s] = 0;
        _firstPosition[s] = firstPosition;
        _lastWrite[s] = ++_clock;
    }

    /// <summary>Records position <paramref name="slot"/> of the block as written; the block's last position codes it and frees its slot.</summary>
    public void AfterWrite(in KvLayer layer, int block, int slot)
    {
        int s = _slotOfBlock[block];
        _filled[s] = Math.Max(_filled[s], slot + 1);
        if (slot == layer.BlockSize - 1) Close(layer, s);
    }

    /// <summary>Gives <paramref name="destination"/> the residual state of <paramref name="source"/> (call before copying the packed bytes).</summary>
    public void Copy(in KvLayer layer, int source, int destination)
    {
        int from = _slotOfBlock[source];
        if (from >= 0)
        {
            _lastWrite[from] = ++_clock;   // keep the source's slot from being the one reclaimed
            int to = _slotOfBlock[destination];
            if (to < 0) to = Take(layer, destination);
            from = _slotOfBlock[source];   // reclaiming may have coded the source (a pool of one slot)
            if (from >= 0)
            {
                if (_keys.Length > 0) Array.Copy(_keys, from * SlotBytes, _keys, to * SlotBytes, SlotBytes);
                if (_values.Length > 0) Array.Copy(_values, from * SlotBytes, _values, to * SlotBytes, SlotBytes);
                _filled[to] = _filled[from];
                _firstPosition[to] = _firstPosition[from];   // a copy holds the same positions of another sequence
                _lastWrite[to] = ++_clock;
                return;
            }
        }
        Release(destination);
    }

    /// <summary>Forgets a block's slot without coding it (its packed bytes are about to be overwritten whole).</summary>
    private void Release(int block)
    {
        int s = _slotOfBlock[block];
        if (s < 0) return;
        _slotOfBlock[block] = -1;
        _blockOfSlot[s] = -1;
    }

    /// <summary>A free slot for <paramref name="block"/>; when none is free, the least recently written one is coded and taken.</summary>
    private int Take(in KvLayer layer, int block)
    {
        int s = Array.IndexOf(_blockOfSlot, -1);
        if (s < 0)
        {
            s = 0;
            for (int i = 1; i < Slots; i++)
                if (_lastWrite[i] < _lastWrite[s]) s = i;
            Close(layer, s);
        }
        _blockOfSlot[s] = block;
        _slotOfBlock[block] = s;
        return s;
    }

    /// <summary>Codes the slot's block (its written positions) into packed form and frees the slot.</summary>
    private void Close(in KvLayer layer, int s)
    {
        int block = _blockOfSlot[s], hd = layer.HeadDim, bs = layer.BlockSize, valid = _filled[s];
        for (int h = 0; h < layer.KvHeads; h++)
        {
            if (KvElementTypes.IsKivi(layer.Types.Keys))
                KiviCodec.EncodeKeys(KvElementTypes.KiviBits(layer.Types.Keys), hd, bs, (Half*)layer.ResidualKeySegment(s, h), valid,
                    layer.KeySegment(block, h), layer.KeyBasis!, _firstPosition[s]);
            if (KvElementTypes.IsKivi(layer.Types.Values))
            {
                int bits = KvElementTypes.KiviBits(layer.Types.Values);
                var rows = (Half*)layer.ResidualValueSegment(s, h);
                for (int p = 0; p < valid; p++)
                    KiviCodec.EncodeValueRow(bits, hd, rows + p * hd, layer.ValueSegment(block, h) + (long)p * layer.ValueHeadBytes);
            }
        }
        _slotOfBlock[block] = -1;
        _blockOfSlot[s] = -1;
    }

    /// <summary>Fills slot <paramref name="s"/> with the block's packed K/V decoded to f16 (a block reopened mid-way).</summary>
    private void Decode(in KvLayer layer, int block, int s)
    {
        int hd = layer.HeadDim, bs = layer.BlockSize;
        var tile = new float[KvTile.Positions * hd];
        fixed (float* t = tile)
            for (int h = 0; h < layer.KvHeads; h++)
            {
                if (KvElementTypes.IsKivi(layer.Types.Keys))
                {
                    var dst = (Half*)layer.ResidualKeySegment(s, h);
                    for (int k = 0; k < bs / KvTile.Positions; k++)
                    {
                        KiviTile.LoadKeys(KvElementTypes.KiviBits(layer.Types.Keys), layer.KeySegment(block, h), k, hd, bs, t);
                        layer.KeyBasis!.ToModel(t, _firstPosition[s] + k * KvTile.Positions);
                        for (int i = 0; i < tile.Length; i++) dst[k * tile.Length + i] = (Half)t[i];
                    }
                }
                if (KvElementTypes.IsKivi(layer.Types.Values))
                {
                    var dst = (Half*)layer.ResidualValueSegment(s, h);
                    for (int p = 0; p < bs; p++)
                    {
                        KiviTile.LoadRow(KvElementTypes.KiviBits(layer.Types.Values), layer.ValueSegment(block, h) + (long)p * layer.ValueHeadBytes, hd, t);
                        for (int d = 0; d < hd; d++) dst[p * hd + d] = (Half)t[d];
                    }
                }
            }
    }
}
