namespace Frugal.Inference.KvPaging;

/// <summary>
/// Owns every KV block id of a paged KV cache (PagedAttention, Kwon et al. 2023; the block pool of vLLM v1).
/// Each block holds <see cref="BlockSize"/> token positions. A block is in use while its reference count is above
/// zero; at zero it goes to the tail of a free queue kept in least-recently-freed order. A freed block that holds
/// a full, hashed block of tokens stays findable by its hash (a prefix-cache hit revives it) until allocation
/// reaches it at the head of the queue and evicts it.
/// Pure bookkeeping: the K/V floats live with the engine, addressed by block id.
/// </summary>
public sealed class KvBlockPool
{
    private const int None = -1;

    private readonly int[] _refCount;            // [blocks]
    private readonly int[] _prev, _next;         // [blocks] free-queue links, None when not queued
    private readonly bool[] _queued;             // [blocks]
    private readonly KvBlockHash?[] _hash;       // [blocks] set while the block is registered in the prefix cache
    private readonly KvBlockHash[] _parentHash;  // [blocks]
    private readonly int[] _tokens;              // [blocks, blockSize] tokens of registered blocks, to verify hits
    private readonly Dictionary<KvBlockHash, int> _cached = [];
    private int _head = None, _tail = None;

    public KvBlockPool(int totalBlocks, int blockSize = 16)
    {
        if (totalBlocks < 1) throw new ArgumentOutOfRangeException(nameof(totalBlocks), totalBlocks, "a KV block pool needs at least one block");
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "a KV block holds at least one token");
        TotalBlocks = totalBlocks;
        BlockSize = blockSize;
        _refCount = new int[totalBlocks];
        _prev = new int[totalBlocks];
        _next = new int[totalBlocks];
        _queued = new bool[totalBlocks];
        _hash = new KvBlockHash?[totalBlocks];
        _parentHash = new KvBlockHash[totalBlocks];
        _tokens = new int[checked(totalBlocks * blockSize)];
        for (int b = 0; b < totalBlocks; b++) Enqueue(b);
    }

    public int TotalBlocks { get; }

    /// <summary>Every hash this pool registers and evicts, for whoever summarizes the cache elsewhere (a cluster router).</summary>
    public KvPrefixCacheJournal Journal { get; } = new();

    public int BlockSize { get; }

    /// <summary>Blocks in the free queue (some may still hold a reusable cached prefix).</summary>
    public int FreeBlocks { get; private set; }

    /// <summary>Blocks with a reference count above zero.</summary>
    public int UsedBlocks => TotalBlocks - FreeBlocks;

    /// <summary>Blocks registered in the prefix cache, in use or not.</summary>
    public int CachedBlocks => _cached.Count;

    /// <summary>Cached blocks that allocation has taken back (their prefix is no longer reusable).</summary>
    public long Evictions { get; private set; }

    public int RefCount(int block) => _refCount[CheckId(block)];

    public bool IsCached(int block) => _hash[CheckId(block)] is not null;

    /// <summary>Takes <paramref name="count"/> blocks from the head of the free queue, evicting cached ones; all or nothing.</summary>
    public bool TryAllocate(int count, List<int> into)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > FreeBlocks) return false;
        for (int i = 0; i < count; i++)
        {
            int b = _head;
            Dequeue(b);
            if (_hash[b] is { } h)
            {
                _cached.Remove(h);
                _hash[b] = null;
                Evictions++;
                Journal.Removed(h);
            }
            _refCount[b] = 1;
            into.Add(b);
        }
        return true;
    }

    /// <summary>Adds a reference (sharing, prefix hit); a block revived from the free queue leaves it.</summary>
    public void Retain(int block)
    {
        CheckId(block);
        if (_refCount[block]++ == 0) Dequeue(block);
    }

    /// <summary>Drops a reference; at zero the block goes to the tail of the free queue, keeping its cached content.</summary>
    public void Release(int block)
    {
        CheckId(block);
        if (_refCount[block] == 0)
            throw new InvalidOperationException($"KV block {block} released more often than it was retained");
        if (--_refCount[block] == 0) Enqueue(block);
    }

    /// <summary>The cached block holding exactly these tokens after that parent, if any.</summary>
    public int? Lookup(KvBlockHash hash, KvBlockHash parent, ReadOnlySpan<int> tokens)
    {
        if (!_cached.TryGetValue(hash, out int b)) return null;
        return _parentHash[b] == parent && tokens.SequenceEqual(_tokens.AsSpan(b * BlockSize, BlockSize)) ? b : null;
    }

    /// <summary>
    /// Registers a full, computed block so later sequences with the same prefix reuse it. Returns false when an
    /// equal block is already registered (the new one stays private).
    /// </summary>
    public bool Register(int block, KvBlockHash hash, KvBlockHash parent, ReadOnlySpan<int> tokens)
    {
        CheckId(block);
        if (tokens.Length != BlockSize)
            throw new ArgumentException($"only full blocks of {BlockSize} tokens can be cached, got {tokens.Length}", nameof(tokens));
        if (_hash[block] is not null || _cached.ContainsKey(hash)) return false;
        _cached[hash] = block;
        _hash[block] = hash;
        _parentHash[block] = parent;
        tokens.CopyTo(_tokens.AsSpan(block * BlockSize, BlockSize));
        Journal.Added(hash);
        return true;
    }

    /// <summary>Takes a block out of the prefix cache (its K/V is about to change); no-op when it is not registered.</summary>
    public void Unregister(int block)
    {
        CheckId(block);
        if (_hash[block] is not { } h) return;
        _cached.Remove(h);
        _hash[block] = null;
        Journal.Removed(h);
    }

    /// <summary>Checks the pool's own invariants; for tests and debug assertions.</summary>
    public void Validate()
    {
        int queued = 0;
        for (int b = _head, prev = None; b != None; prev = b, b = _next[b])
        {
            if (_prev[b] != prev || !_queued[b] || _refCount[b] != 0)
                throw new InvalidOperationException($"KV block {b} is in the free queue in an inconsistent state");
            if (++queued > TotalBlocks) throw new InvalidOperationException("KV free queue has a cycle");
        }
        if (queued != FreeBlocks) throw new InvalidOperationException($"free queue holds {queued} blocks but FreeBlocks says {FreeBlocks}");
        for (int b = 0; b < TotalBlocks; b++)
        {
            if (_refCount[b] < 0) throw new InvalidOperationException($"KV block {b} has a negative reference count");
            if ((_refCount[b] == 0) != _queued[b]) throw new InvalidOperationException($"KV block {b}: reference count {_refCount[b]} but queued={_queued[b]}");
            if (_hash[b] is { } h && _cached[h] != b) throw new InvalidOperationException($"KV block {b} has a hash the cache maps elsewhere");
        }
    }

    private int CheckId(int block)
    {
        if ((uint)block >= (uint)TotalBlocks)
            throw new ArgumentOutOfRangeException(nameof(block), block, $"KV block ids run from 0 to {TotalBlocks - 1}");
        return block;
    }

    private void Enqueue(int b)
    {
        _prev[b] = _tail;
        _next[b] = None;
        if (_tail != None) _next[_tail] = b; else _head = b;
        _tail = b;
        _queued[b] = true;
        FreeBlocks++;
    }

    private void Dequeue(int b)
    {
        if (_prev[b] != None) _next[_prev[b]] = _next[b]; else _head = _next[b];
        if (_next[b] != None) _prev[_next[b]] = _prev[b]; else _tail = _prev[b];
        _prev[b] = _next[b] = None;
        _queued[b] = false;
        FreeBlocks--;
    }
}
