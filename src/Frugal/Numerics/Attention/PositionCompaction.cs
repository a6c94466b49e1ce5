using Frugal.Numerics.Ops;

namespace Frugal.Numerics.Attention;

/// <summary>
/// Moves a sequence's kept positions down inside one layer's paged K/V, as llama.cpp's context shift does
/// (<c>llama_memory_seq_rm</c> + <c>seq_add</c>): slot i of a sequence always holds RoPE position i, so a key that moves
/// from slot s to slot t &lt; s is rotated by the position delta t − s. RoPE is a rotation per dimension pair whose angle
/// is linear in the position, so R(t)·x = R(t − s)·R(s)·x and the stored (already rotated) key needs only the delta.
/// Values carry no position: they move as bytes. Each key is decoded, un-rotated when keys are stored Walsh-Hadamard
/// rotated, RoPE-shifted in f32 and encoded again, so a quantized key type costs one more rounding per move.
/// </summary>
public static class PositionCompaction
{
    /// <summary>Floats of scratch <see cref="MoveLayer"/> needs: one key tile and one head row.</summary>
    public static int ScratchFloats(int headDim) => headDim * (KvTile.Positions + 1);

    /// <summary>
    /// Moves slot <c>kept[i]</c> to slot <c>first + i</c> for every i, in ascending order (each slot is read before any
    /// later move writes it, since first + i ≤ kept[i]). <paramref name="cos"/>/<paramref name="sin"/> hold, per move,
    /// the [ropeDims/2] angles of its delta (first + i − kept[i]).
    /// </summary>
    public static unsafe void MoveLayer(in KvLayer layer, IReadOnlyList<int> blockTable, int first, ReadOnlySpan<int> kept,
        ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, RopeStyle style, Span<float> scratch)
    {
        int hd = layer.HeadDim, bs = layer.BlockSize, half = cos.Length / Math.Max(1, kept.Length);
        if (scratch.Length < ScratchFloats(hd)) throw new ArgumentException($"scratch needs {ScratchFloats(hd)} floats", nameof(scratch));
        var tile = scratch[..(hd * KvTile.Positions)];       // [headDim][16] one decoded key tile
        var key = scratch.Slice(hd * KvTile.Positions, hd);  // [headDim] the moving key
        bool rowValues = layer.Types.Values is KvElementType.F16 or KvElementType.F32 or KvElementType.Q8_0 or KvElementType.Q4_0;
        for (int i = 0; i < kept.Length; i++)
        {
            int from = kept[i], to = first + i;
            if (from == to) continue;
            int fromBlock = blockTable[from / bs], fromSlot = from % bs, toBlock = blockTable[to / bs], toSlot = to % bs;
            var c = cos.Slice(i * half, half);
            var s = sin.Slice(i * half, half);
            for (int h = 0; h < layer.KvHeads; h++)
            {
                ReadKey(layer, fromBlock, from, h, tile, key);
                Rope.Apply(key, c, s, style);
                KvTile.StoreKey(layer, toBlock, toSlot, h, key);
                if (rowValues)
                {
                    int vb = layer.ValueHeadBytes;
                    Buffer.MemoryCopy(layer.ValueSegment(fromBlock, h) + (long)fromSlot * vb, layer.ValueSegment(toBlock, h) + (long)toSlot * vb, vb, vb);
                }
                else
                {
                    // A value type without one row per position: decode the tile up to the slot and encode the row again.
                    fixed (float* v = tile) KvTile.LoadValues(layer, fromBlock, fromSlot / KvTile.Positions, h, fromSlot % KvTile.Positions + 1, v);
                    KvTile.StoreValue(layer, toBlock, toSlot, h, tile.Slice(fromSlot % KvTile.Positions * hd, hd));
                }
            }
        }
    }

    /// <summary>
    /// <see cref="MoveLayer"/> for a layer whose K or V is KIVI: its keys are coded per channel over a whole block, so
    /// positions cannot be re-encoded one by one in place. Every moving position is read first (keys decoded,
    /// RoPE-shifted; values decoded), then written again at slots first.. through <see cref="KvLayerMemory.Write"/>,
    /// which fills blocks through the f16 residual and codes each one that fills. The block holding slot
    /// <paramref name="first"/>, when it was coded, is reopened (its positions before <paramref name="first"/> take one
    /// more rounding).
    /// </summary>
    public static unsafe void MoveLayerThroughWrites(KvLayerMemory memory, IReadOnlyList<int> blockTable, int first, ReadOnlySpan<int> kept,
        ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, RopeStyle style, Span<float> scratch)
    {
        var layer = memory.View;
        int hd = layer.HeadDim, bs = layer.BlockSize, kvDim = layer.KvHeads * hd, half = cos.Length / Math.Max(1, kept.Length);
        if (scratch.Length < ScratchFloats(hd)) throw new ArgumentException($"scratch needs {ScratchFloats(hd)} floats", nameof(scratch));
        var tile = scratch[..(hd * KvTile.Positions)];
        var keys = new float[kept.Length * kvDim];     // [moves, kvDim] RoPE-shifted keys, as the model computes them
        var values = new float[kept.Length * kvDim];   // [moves, kvDim]
        for (int i = 0; i < kept.Length; i++)
        {
            int from = kept[i], block = blockTable[from / bs], slot = from % bs;
            for (int h = 0; h < layer.KvHeads; h++)
            {
                var key = keys.AsSpan(i * kvDim + h * hd, hd);
                ReadKey(layer, block, from, h, tile, key);
                Rope.Apply(key, cos.Slice(i * half, half), sin.Slice(i * half, half), style);
                fixed (float* v = tile) KvTile.LoadValues(layer, block, slot / KvTile.Positions, h, slot % KvTile.Positions + 1, v);
                tile.Slice(slot % KvTile.Positions * hd, hd).CopyTo(values.AsSpan(i * kvDim + h * hd, hd));
            }
        }
        memory.Write(blockTable, first, kept.Length, keys, values);
    }

    /// <summary>
    /// The key of one head at one sequence position (in <paramref name="block"/>) as the model computed it (after RoPE): decoded from its tile and, when keys are
    /// stored rotated, rotated back (the normalized Walsh-Hadamard matrix is its own inverse).
    /// </summary>
    public static unsafe void ReadKey(in KvLayer layer, int block, int position, int head, Span<float> tile, Span<float> key)
    {
        int hd = layer.HeadDim, j = position % KvTile.Positions;
        fixed (float* kt = tile) KvTile.LoadKeys(layer, block, position, head, kt);
        for (int d = 0; d < hd; d++) key[d] = tile[d * KvTile.Positions + j];
        if (layer.Types.RotateKeys) WalshHadamard.Transform(key[..hd]);
    }
}
