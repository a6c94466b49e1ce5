using Frugal.Numerics.Attention;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// Compaction of one sequence's K/V: the primitive under context shift and budget eviction. Slot i of a sequence always
/// holds RoPE position i (llama.cpp's context shift, StreamingLLM's positions within the cache), so dropping positions
/// moves the kept ones after them down and re-rotates their keys by the position delta, in this model's RoPE (style,
/// rotated dimensions, frequency base and scale, frequency factors).
/// </summary>
internal sealed partial class DecoderTransformer
{
    public void CompactKv(PagedKvStore store, IReadOnlyList<int> blockTable, int count, ReadOnlySpan<int> keptSlots)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(blockTable);
        var c = Config;
        if (store.Layers != c.BlockCount || store.KvHeads != c.HeadCountKv || store.HeadDim != c.HeadDim)
            throw new ArgumentException($"the store was not created by this model's CreatePagedStore (needs {c.BlockCount} layers of {c.HeadCountKv} x {c.HeadDim})", nameof(store));
        if (count < 0 || (count + store.BlockSize - 1) / store.BlockSize > blockTable.Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"{count} positions do not fit the table's {blockTable.Count} blocks of {store.BlockSize}");
        for (int i = 0; i < keptSlots.Length; i++)
        {
            if ((uint)keptSlots[i] >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(keptSlots), $"kept slot #{i} is {keptSlots[i]}, outside the sequence's [0, {count})");
            if (i > 0 && keptSlots[i] <= keptSlots[i - 1])
                throw new ArgumentException($"kept slots must ascend; #{i} is {keptSlots[i]} after {keptSlots[i - 1]}", nameof(keptSlots));
        }
        for (int i = 0; i < (count + store.BlockSize - 1) / store.BlockSize; i++)
            if ((uint)blockTable[i] >= (uint)store.Blocks)
                throw new ArgumentException($"block table entry #{i} is block {blockTable[i]}, outside the store's [0, {store.Blocks})", nameof(blockTable));

        // Slots that keep their index need nothing; the first one that moves starts the work.
        int first = 0;
        while (first < keptSlots.Length && keptSlots[first] == first) first++;
        if (first == keptSlots.Length) return;
        var moving = keptSlots[first..];
        int half = c.RopeDims / 2;
        var cos = new float[moving.Length * half];  // [moves, ropeDims/2] angles of each move's delta
        var sin = new float[moving.Length * half];
        RopeSpec? angles = null;
        (float[] Cos, float[] Sin)? still = null;   // the identity turn, for layers whose keys carry no RoPE (SmolLM3's NoPE layers)
        var scratch = new float[PositionCompaction.ScratchFloats(c.HeadDim)];
        bool kivi = KvElementTypes.IsKivi(store.Types.Keys) || KvElementTypes.IsKivi(store.Types.Values);
        for (int l = 0; l < store.Layers; l++)
        {
            // Each layer's keys turn by the delta in their own RoPE (Gemma 3's local layers have their own base), a pure
            // turn: the magnitude (attention factor, YaRN) is in the keys already. Tables are redone on a change.
            float[] lc, ls;
            if (RopeOf(l) is not { } rope)
                (lc, ls) = still ??= (Enumerable.Repeat(1f, cos.Length).ToArray(), new float[sin.Length]);
            else
            {
                var turn = rope with { Magnitude = 1f };
                if (turn != angles)
                {
                    angles = turn;
                    for (int i = 0; i < moving.Length; i++)
                        Rope.Angles(first + i - moving[i], turn, cos.AsSpan(i * half, half), sin.AsSpan(i * half, half));
                }
                (lc, ls) = (cos, sin);
            }
            if (kivi) PositionCompaction.MoveLayerThroughWrites(store.Layer(l), blockTable, first, moving, lc, ls, _parts.Rope, scratch);
            else PositionCompaction.MoveLayer(store.Layer(l).View, blockTable, first, moving, lc, ls, _parts.Rope, scratch);
        }
    }
}
