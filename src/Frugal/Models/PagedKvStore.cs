using Frugal.Numerics.Attention;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// The K/V memory behind a paged cache (PagedAttention): per layer one pinned byte array of keys and one of values,
/// [blocks][kvHeads][blockSize positions] of head rows in the chosen element types (f16 by default, q8_0/q4_0 as
/// llama.cpp's <c>-ctk/-ctv</c>, or KIVI's kivi2/kivi4; see <see cref="KvLayer"/> for the layout). Which block holds
/// which positions of a sequence is the caller's block table: block i of a table holds positions
/// [i·blockSize, (i+1)·blockSize). Keys are stored after RoPE, except KIVI's, coded with RoPE undone (<see cref="KiviKeyBasis"/>). Bytes per position equal llama.cpp's for its types.
/// KIVI types also hold, per layer, <see cref="ResidualSlots"/> f16 blocks for the blocks being filled
/// (<see cref="ResidualBytes"/>); a block is coded when its last position is written.
/// </summary>
public sealed class PagedKvStore
{
    /// <summary>Residual slots when none are asked for: enough for a few sequences filling blocks at once.</summary>
    public const int DefaultResidualSlots = 4;

    private readonly KvLayerMemory[] _layers;

    /// <param name="residualSlots">
    /// KIVI only: f16 block slots per layer, one per sequence that may be filling a block at once (more are served by
    /// coding the least recently written partial block early, which costs it precision); 0 takes
    /// <see cref="DefaultResidualSlots"/>.
    /// </param>
    /// <param name="keyRope">the model's RoPE: KIVI keys are coded with it undone (<see cref="KiviKeyBasis"/>); null for keys without RoPE.</param>
    /// <param name="layerKeyRope">
    /// the RoPE of each layer's keys when layers differ (Gemma 3's local layers; null for a layer whose keys carry none,
    /// SmolLM3's NoPE layers); overrides <paramref name="keyRope"/>.
    /// </param>
    public PagedKvStore(int layers, int blocks, int blockSize, int kvHeads, int headDim, KvCacheTypes types = default, int residualSlots = 0,
        RopeSpec? keyRope = null, Func<int, RopeSpec?>? layerKeyRope = null)
    {
        if (layers <= 0) throw new ArgumentOutOfRangeException(nameof(layers), $"a KV store needs at least one layer, got {layers}");
        if (blocks <= 0) throw new ArgumentOutOfRangeException(nameof(blocks), $"a KV store needs at least one block, got {blocks}");
        if (blockSize <= 0 || blockSize % KvTile.Positions != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), $"a KV block holds a positive multiple of {KvTile.Positions} positions (the attention tile), got {blockSize}");
        if (kvHeads <= 0) throw new ArgumentOutOfRangeException(nameof(kvHeads), $"a KV store needs at least one KV head, got {kvHeads}");
        if (residualSlots < 0) throw new ArgumentOutOfRangeException(nameof(residualSlots), $"residual slots cannot be negative, got {residualSlots}");
        KvElementTypes.CheckBlockSize(types, blockSize);
        bool kivi = KvElementTypes.IsKivi(types.Keys) || KvElementTypes.IsKivi(types.Values);
        ResidualSlots = kivi ? Math.Min(blocks, residualSlots == 0 ? DefaultResidualSlots : residualSlots) : 0;
        Layers = layers;
        Blocks = blocks;
        BlockSize = blockSize;
        KvHeads = kvHeads;
        HeadDim = headDim;
        Types = types;
        _layers = new KvLayerMemory[layers];
        for (int l = 0; l < layers; l++) _layers[l] = new KvLayerMemory(blocks, blockSize, kvHeads, headDim, types, Math.Max(1, ResidualSlots),
            layerKeyRope is null ? keyRope : layerKeyRope(l));
    }

    public int Layers { get; }

    public int Blocks { get; }

    public int BlockSize { get; }

    public int KvHeads { get; }

    public int HeadDim { get; }

    /// <summary>Floats per position per layer before encoding: KV heads · head size.</summary>
    public int KvDim => KvHeads * HeadDim;

    public KvCacheTypes Types { get; }

    /// <summary>f16 block slots per layer for KIVI blocks being filled (0 for other types).</summary>
    public int ResidualSlots { get; }

    /// <summary>
    /// Bytes of K and V of one position over all layers in the blocks (llama.cpp's KV bytes per token for its types):
    /// layers · kvHeads · (K + V bytes per position). KIVI with b bits: keys headDim·b/8 + 4·headDim/blockSize (codes,
    /// then an fp16 scale and minimum per channel per block; kivi2 2 more for its exact entries), values headDim·b/8 + 4·headDim/32 (an fp16 scale and
    /// minimum per 32 channels per position). The residual is not in it: see <see cref="ResidualBytes"/>.
    /// </summary>
    public long BytesPerPosition => (long)Layers * Types.BytesPerLayerPosition(KvHeads, HeadDim, BlockSize);

    /// <summary>
    /// Bytes of the KIVI f16 residual over all layers: layers · slots · kvHeads · blockSize · headDim · 2 per KIVI side
    /// (K, V or both); 0 for other types.
    /// </summary>
    public long ResidualBytes => _layers[0].ResidualBytes * Layers;

    /// <summary>Bytes of K and V over all layers and blocks, and the KIVI residual.</summary>
    public long Bytes => BytesPerPosition * Blocks * BlockSize + ResidualBytes;

    /// <summary>
    /// <see cref="Bytes"/> of a store made with these arguments, without making it (<c>frugal plan</c>): the blocks'
    /// bytes per position, and per KIVI side <c>layers · slots · kvHeads · blockSize · headDim · 2</c> of f16 residual
    /// (slots as the constructor takes them: 0 = <see cref="DefaultResidualSlots"/>, at most one per block).
    /// </summary>
    public static long BytesFor(int layers, int blocks, int blockSize, int kvHeads, int headDim, KvCacheTypes types, int residualSlots = 0)
    {
        long perPosition = (long)layers * types.BytesPerLayerPosition(kvHeads, headDim, blockSize);
        int kiviSides = (KvElementTypes.IsKivi(types.Keys) ? 1 : 0) + (KvElementTypes.IsKivi(types.Values) ? 1 : 0);
        int slots = kiviSides == 0 ? 0 : Math.Min(blocks, residualSlots == 0 ? DefaultResidualSlots : residualSlots);
        return perPosition * blocks * blockSize + (long)layers * slots * kiviSides * kvHeads * blockSize * headDim * 2;
    }

    /// <summary>One layer's memory, for the attention kernel.</summary>
    internal KvLayerMemory Layer(int layer) => _layers[layer];

    /// <summary>Encodes <paramref name="count"/> positions' keys and values ([count, kvDim] each) into their blocks.</summary>
    internal void Write(int layer, IReadOnlyList<int> blockTable, int start, int count, ReadOnlySpan<float> keys, ReadOnlySpan<float> values) =>
        _layers[layer].Write(blockTable, start, count, keys, values);

    /// <summary>
    /// The key of one KV head at one position of a sequence as the model computed it (after RoPE; rotated back when
    /// keys are stored Walsh-Hadamard rotated), decoded to f32 [headDim].
    /// </summary>
    public void ReadKey(int layer, IReadOnlyList<int> blockTable, int position, int head, Span<float> key)
    {
        if ((uint)layer >= (uint)Layers) throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} is outside [0, {Layers})");
        if ((uint)head >= (uint)KvHeads) throw new ArgumentOutOfRangeException(nameof(head), $"KV head {head} is outside [0, {KvHeads})");
        if (key.Length < HeadDim) throw new ArgumentException($"a key holds {HeadDim} floats", nameof(key));
        int block = CheckedBlock(blockTable, position);
        var scratch = new float[HeadDim * KvTile.Positions];
        PositionCompaction.ReadKey(_layers[layer].View, block, position, head, scratch, key);
    }

    /// <summary>
    /// KeyDiff's score of each of the first <paramref name="count"/> positions of a sequence into
    /// <paramref name="scores"/> [count]: the cosine similarity of its key to the sequence's mean key, averaged over
    /// layers and KV heads (see <see cref="KeySimilarity"/>). High scores are the least distinct keys.
    /// </summary>
    public void KeySimilarityToMean(IReadOnlyList<int> blockTable, int count, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(blockTable);
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), $"scoring needs at least one position, got {count}");
        if (scores.Length < count) throw new ArgumentException($"scores needs {count} floats, got {scores.Length}", nameof(scores));
        CheckedBlock(blockTable, count - 1);
        var target = scores[..count];
        target.Clear();
        var scratch = new float[HeadDim * (KvTile.Positions + 1)];
        foreach (var layer in _layers) KeySimilarity.AddLayer(layer.View, blockTable, count, target, scratch);
        System.Numerics.Tensors.TensorPrimitives.Multiply(target, 1f / (Layers * KvHeads), target);
    }

    /// <summary>The block of <paramref name="position"/>, checking that the table covers it and the store holds it.</summary>
    internal int CheckedBlock(IReadOnlyList<int> blockTable, int position)
    {
        if (position < 0 || position / BlockSize >= blockTable.Count)
            throw new ArgumentOutOfRangeException(nameof(position), $"position {position} is outside the {blockTable.Count} blocks of the table");
        int block = blockTable[position / BlockSize];
        if ((uint)block >= (uint)Blocks) throw new ArgumentOutOfRangeException(nameof(blockTable), $"block {block} is outside [0, {Blocks})");
        return block;
    }

    /// <summary>Copies every layer's K/V of one block into another (copy-on-write of a shared block).</summary>
    public void CopyBlock(int source, int destination)
    {
        if ((uint)source >= (uint)Blocks) throw new ArgumentOutOfRangeException(nameof(source), $"block {source} is outside [0, {Blocks})");
        if ((uint)destination >= (uint)Blocks) throw new ArgumentOutOfRangeException(nameof(destination), $"block {destination} is outside [0, {Blocks})");
        foreach (var layer in _layers) layer.CopyBlock(source, destination);
    }
}
