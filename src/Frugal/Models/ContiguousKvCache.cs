namespace Frugal.Models;

/// <summary>
/// The simplest KV cache: per layer, one contiguous float array of keys and one of values, each
/// [capacity, kvDim] row-major (position-major, then KV head, then head dimension). Keys are stored after RoPE.
/// </summary>
public sealed class ContiguousKvCache : KvCache
{
    private int _count;

    public ContiguousKvCache(int layers, int capacity, int kvDim)
    {
        if (layers <= 0) throw new ArgumentOutOfRangeException(nameof(layers), $"a KV cache needs at least one layer, got {layers}");
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), $"a KV cache needs room for at least one position, got {capacity}");
        if (kvDim <= 0) throw new ArgumentOutOfRangeException(nameof(kvDim), $"kvDim must be positive, got {kvDim}");
        if ((long)capacity * kvDim > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"{capacity} positions of {kvDim} floats exceed one array per layer");
        Layers = layers;
        Capacity = capacity;
        KvDim = kvDim;
        Keys = new float[layers][];
        Values = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            Keys[l] = new float[capacity * kvDim];
            Values[l] = new float[capacity * kvDim];
        }
    }

    public override int Count => _count;

    public override int Capacity { get; }

    public int Layers { get; }

    /// <summary>Floats per position per layer: KV heads · head size.</summary>
    public int KvDim { get; }

    /// <summary>Keys per layer: [layers][capacity, kvDim].</summary>
    internal float[][] Keys { get; }

    /// <summary>Values per layer: [layers][capacity, kvDim].</summary>
    internal float[][] Values { get; }

    /// <summary>The keys of one layer for positions [0, Count): [Count, kvDim].</summary>
    public ReadOnlySpan<float> LayerKeys(int layer) => Keys[layer].AsSpan(0, _count * KvDim);

    /// <summary>The values of one layer for positions [0, Count): [Count, kvDim].</summary>
    public ReadOnlySpan<float> LayerValues(int layer) => Values[layer].AsSpan(0, _count * KvDim);

    public override void Truncate(int count)
    {
        if ((uint)count > (uint)_count)
            throw new ArgumentOutOfRangeException(nameof(count), $"cannot truncate a cache of {_count} positions to {count}");
        _count = count;
    }

    /// <summary>Marks <paramref name="n"/> more positions as written (after a forward step filled them in every layer).</summary>
    internal void Advance(int n)
    {
        if (n < 0 || _count + n > Capacity)
            throw new ArgumentOutOfRangeException(nameof(n), $"cannot advance a cache at {_count} of {Capacity} positions by {n}");
        _count += n;
    }
}
