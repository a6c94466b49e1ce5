namespace Frugal.Models;

/// <summary>
/// The K/V memory behind a paged cache (PagedAttention): per layer one float array of keys and one of values,
/// each [blocks, blockSize, kvDim]. Which block holds which positions of a sequence is the caller's block table:
/// block i of a table holds positions [i·blockSize, (i+1)·blockSize). Keys are stored after RoPE.
/// </summary>
public sealed class PagedKvStore
{
    public PagedKvStore(int layers, int blocks, int blockSize, int kvDim)
    {
        if (layers <= 0) throw new ArgumentOutOfRangeException(nameof(layers), $"a KV store needs at least one layer, got {layers}");
        if (blocks <= 0) throw new ArgumentOutOfRangeException(nameof(blocks), $"a KV store needs at least one block, got {blocks}");
        if (blockSize <= 0) throw new ArgumentOutOfRangeException(nameof(blockSize), $"a block holds at least one position, got {blockSize}");
        if (kvDim <= 0) throw new ArgumentOutOfRangeException(nameof(kvDim), $"kvDim must be positive, got {kvDim}");
        if ((long)blocks * blockSize * kvDim > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(blocks), $"{blocks} blocks of {blockSize} x {kvDim} floats exceed one array per layer");
        Layers = layers;
        Blocks = blocks;
        BlockSize = blockSize;
        KvDim = kvDim;
        Keys = new float[layers][];
        Values = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            Keys[l] = new float[blocks * blockSize * kvDim];
            Values[l] = new float[blocks * blockSize * kvDim];
        }
    }

    public int Layers { get; }

    public int Blocks { get; }

    public int BlockSize { get; }

    /// <summary>Floats per position per layer: KV heads · head size.</summary>
    public int KvDim { get; }

    /// <summary>Bytes of K and V over all layers.</summary>
    public long Bytes => 2L * Layers * Blocks * BlockSize * KvDim * sizeof(float);

    /// <summary>Keys per layer: [layers][blocks, blockSize, kvDim].</summary>
    internal float[][] Keys { get; }

    /// <summary>Values per layer: [layers][blocks, blockSize, kvDim].</summary>
    internal float[][] Values { get; }

    /// <summary>Copies every layer's K/V of one block into another (copy-on-write of a shared block).</summary>
    public void CopyBlock(int source, int destination)
    {
        if ((uint)source >= (uint)Blocks) throw new ArgumentOutOfRangeException(nameof(source), $"block {source} is outside [0, {Blocks})");
        if ((uint)destination >= (uint)Blocks) throw new ArgumentOutOfRangeException(nameof(destination), $"block {destination} is outside [0, {Blocks})");
        int width = BlockSize * KvDim;
        for (int l = 0; l < Layers; l++)
        {
            Array.Copy(Keys[l], source * width, Keys[l], destination * width, width);
            Array.Copy(Values[l], source * width, Values[l], destination * width, width);
        }
    }

    /// <summary>The row of the [blocks·blockSize, kvDim] view that holds <paramref name="position"/> of a sequence.</summary>
    internal int Row(IReadOnlyList<int> blockTable, int position)
    {
        int b = position / BlockSize;
        if (b >= blockTable.Count)
            throw new ArgumentException($"position {position} needs block #{b} but the block table has {blockTable.Count} blocks", nameof(blockTable));
        return blockTable[b] * BlockSize + position % BlockSize;
    }
}
