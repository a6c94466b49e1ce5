using Frugal.Numerics.Attention;

namespace Frugal.Models;

/// <summary>
/// One sequence's cache for <see cref="ILanguageModel.Forward"/>: a <see cref="PagedKvStore"/> of its own whose block
/// table is simply 0, 1, 2, ... . It exists so the single-sequence API runs the same batched forward over the same
/// paged store as the engine (a batch of one), with no second attention path.
/// </summary>
public sealed class PagedSequenceCache : KvCache
{
    private int _count;
    private int[] _tokens = new int[1];

    internal PagedSequenceCache(PagedKvStore store, int capacity)
    {
        Store = store;
        Capacity = capacity;
        BlockTable = Enumerable.Range(0, store.Blocks).ToArray();
        Batch = new BatchSequence[1];
    }

    public override int Count => _count;

    public override int Capacity { get; }

    public KvCacheTypes Types => Store.Types;

    /// <summary>Bytes of K/V memory this cache holds.</summary>
    public long Bytes => Store.Bytes;

    internal PagedKvStore Store { get; }

    internal int[] BlockTable { get; }

    /// <summary>The one-entry batch reused by every call, so a decode step allocates nothing.</summary>
    internal BatchSequence[] Batch { get; }

    /// <summary>A copy of the step's tokens as memory the batch can carry (grown, never shrunk).</summary>
    internal ReadOnlyMemory<int> Tokens(ReadOnlySpan<int> tokens)
    {
        if (_tokens.Length < tokens.Length) _tokens = new int[tokens.Length];
        tokens.CopyTo(_tokens);
        return _tokens.AsMemory(0, tokens.Length);
    }

    public override void Truncate(int count)
    {
        if ((uint)count > (uint)_count)
            throw new ArgumentOutOfRangeException(nameof(count), $"cannot truncate a cache of {_count} positions to {count}");
        _count = count;
    }

    internal void Advance(int n) => _count += n;
}
