namespace Frugal.Inference.KvPaging;

/// <summary>Full blocks of a token sequence already in the prefix cache: reusing them skips their computation.</summary>
/// <param name="Blocks">The cached block ids, in order from the first token.</param>
/// <param name="Tokens">Tokens covered by those blocks (Blocks.Count * block size).</param>
/// <param name="LastHash">Hash of the last hit block (the chain's parent for the next block).</param>
public readonly record struct KvPrefixHit(IReadOnlyList<int> Blocks, int Tokens, KvBlockHash LastHash)
{
    public static readonly KvPrefixHit Empty = new([], 0, KvBlockHash.Root);
}

/// <summary>A block the engine must copy before the step runs: copy-on-write of a shared, partly filled block.</summary>
public readonly record struct KvBlockCopy(int Source, int Destination);

/// <summary>
/// The block table of every live sequence over one <see cref="KvBlockPool"/>: which block holds each run of
/// <c>BlockSize</c> positions. Grows tables as tokens are scheduled, shares cached prefix blocks between
/// sequences, forks a table (all blocks shared) and copies a shared partial block before it is written.
/// </summary>
public sealed class KvBlockTables(KvBlockPool pool)
{
    private sealed class Table
    {
        public readonly List<int> Blocks = [];
        public int Slots;                                 // positions allocated (computed or scheduled)
        public int RegisteredBlocks;                      // leading full blocks whose hash is known
        public KvBlockHash LastHash = KvBlockHash.Root;   // hash of block RegisteredBlocks - 1
        public bool Compacted;                            // positions were renumbered: no further block is a cacheable prefix
    }

    private readonly Dictionary<long, Table> _tables = [];
    private readonly List<KvBlockCopy> _copies = [];
    private readonly List<int> _scratch = [];

    public KvBlockPool Pool { get; } = pool;

    public int BlockSize => Pool.BlockSize;

    /// <summary>Live sequences.</summary>
    public int Count => _tables.Count;

    /// <summary>Prompt tokens looked up when sequences were admitted.</summary>
    public long PrefixQueriedTokens { get; private set; }

    /// <summary>Of those, tokens served from cached blocks instead of being computed.</summary>
    public long PrefixHitTokens { get; private set; }

    /// <summary>Admissions that reused at least one cached block.</summary>
    public long PrefixHits { get; private set; }

    public bool Contains(long sequenceId) => _tables.ContainsKey(sequenceId);

    /// <summary>The sequence's blocks, in position order (block i holds positions [i*BlockSize, (i+1)*BlockSize)).</summary>
    public IReadOnlyList<int> BlockTable(long sequenceId) => Get(sequenceId).Blocks;

    /// <summary>Positions the sequence has blocks for.</summary>
    public int Slots(long sequenceId) => Get(sequenceId).Slots;

    /// <summary>Blocks needed to hold <paramref name="tokens"/> positions.</summary>
    public int BlocksFor(int tokens) => (tokens + BlockSize - 1) / BlockSize;

    /// <summary>
    /// The longest run of leading full blocks of <paramref name="tokens"/> that the cache holds, leaving at least
    /// the last token to compute (its logits are needed to sample what follows). No side effects.
    /// </summary>
    public KvPrefixHit FindCachedPrefix(ReadOnlySpan<int> tokens, int maxTokens = int.MaxValue)
    {
        int maxBlocks = Math.Min(Math.Max(0, tokens.Length - 1), Math.Max(0, maxTokens - 1)) / BlockSize;
        var blocks = new List<int>();
        var parent = KvBlockHash.Root;
        for (int i = 0; i < maxBlocks; i++)
        {
            var span = tokens.Slice(i * BlockSize, BlockSize);
            var hash = KvBlockHash.Of(parent, span);
            if (Pool.Lookup(hash, parent, span) is not { } block) break;
            blocks.Add(block);
            parent = hash;
        }
        return blocks.Count == 0 ? KvPrefixHit.Empty : new KvPrefixHit(blocks, blocks.Count * BlockSize, parent);
    }

    /// <summary>
    /// Makes room for <paramref name="newTokens"/> more positions of a sequence, creating its table (starting with
    /// the blocks of <paramref name="prefix"/>) if it has none. All or nothing: returns false, changing nothing,
    /// when the pool lacks the blocks. A shared, partly filled last block is first copied (see <see cref="TakeCopies"/>).
    /// </summary>
    public bool TryAllocate(long sequenceId, int newTokens, KvPrefixHit prefix = default, int queriedTokens = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(newTokens);
        var prefixBlocks = prefix.Blocks ?? [];
        bool exists = _tables.TryGetValue(sequenceId, out var table);
        if (exists && prefixBlocks.Count > 0)
            throw new InvalidOperationException($"sequence {sequenceId} already has blocks; a cached prefix can only start a new sequence");

        int slots = exists ? table!.Slots : prefixBlocks.Count * BlockSize;
        int have = exists ? table!.Blocks.Count : prefixBlocks.Count;
        int grow = Math.Max(0, BlocksFor(slots + newTokens) - have);
        bool copyLast = exists && newTokens > 0 && slots % BlockSize != 0 && Pool.RefCount(table!.Blocks[^1]) > 1;
        int revived = prefixBlocks.Count(b => Pool.RefCount(b) == 0); // taken off the free queue
        if (grow + (copyLast ? 1 : 0) + revived > Pool.FreeBlocks)
            return false;

        if (!exists)
        {
            table = new Table { RegisteredBlocks = prefixBlocks.Count, LastHash = prefixBlocks.Count > 0 ? prefix.LastHash : KvBlockHash.Root };
            foreach (int b in prefixBlocks)
            {
                Pool.Retain(b);
                table.Blocks.Add(b);
            }
            _tables[sequenceId] = table;
            PrefixQueriedTokens += queriedTokens;
            PrefixHitTokens += prefix.Tokens;
            if (prefixBlocks.Count > 0) PrefixHits++;
        }
        if (copyLast)
        {
            _scratch.Clear();
            Pool.TryAllocate(1, _scratch);
            int shared = table!.Blocks[^1];
            _copies.Add(new KvBlockCopy(shared, _scratch[0]));
            Pool.Release(shared);
            table.Blocks[^1] = _scratch[0];
        }
        Pool.TryAllocate(grow, table!.Blocks);
        table.Slots = slots + newTokens;
        return true;
    }

    /// <summary>
    /// Records that the first <paramref name="computedTokens"/> of <paramref name="tokens"/> now have K/V in
    /// their blocks, registering each newly completed full block in the prefix cache. Only computed blocks are
    /// registered, so no sequence can reuse K/V that a running step has not written yet.
    /// </summary>
    public void MarkComputed(long sequenceId, ReadOnlySpan<int> tokens, int computedTokens)
    {
        var table = Get(sequenceId);
        if (computedTokens > table.Slots || computedTokens > tokens.Length)
            throw new ArgumentOutOfRangeException(nameof(computedTokens), computedTokens, $"sequence {sequenceId} has {table.Slots} positions and {tokens.Length} tokens");
        int full = table.Compacted ? 0 : computedTokens / BlockSize;
        for (int i = table.RegisteredBlocks; i < full; i++)
        {
            var span = tokens.Slice(i * BlockSize, BlockSize);
            var hash = KvBlockHash.Of(table.LastHash, span);
            Pool.Register(table.Blocks[i], hash, table.LastHash, span);
            table.LastHash = hash;
            table.RegisteredBlocks = i + 1;
        }
    }

    /// <summary>
    /// The block side of compacting a sequence that holds <c>Slots</c> positions down to <paramref name="keptCount"/>
    /// (context shift, eviction): every block a move may write (from the one holding <paramref name="firstChangedSlot"/>
    /// to the last one kept) is made the sequence's own, a shared one copied to a fresh block (the copies are added
    /// to <paramref name="copies"/>, to be done before the moves) and a cached one taken out of the prefix cache; then
    /// the blocks past the kept positions go back to the pool. Returns the table as the moves must read it (before the
    /// release), or null, changing nothing, when the pool lacks the blocks to copy. From now on no block of the
    /// sequence enters the prefix cache: its positions no longer hold the K/V a fresh prefix would.
    /// </summary>
    public int[]? Compact(long sequenceId, int firstChangedSlot, int keptCount, List<KvBlockCopy> copies)
    {
        var table = Get(sequenceId);
        if (keptCount < 0 || keptCount > table.Slots || firstChangedSlot < 0)
            throw new ArgumentOutOfRangeException(nameof(keptCount), $"sequence {sequenceId} holds {table.Slots} positions; cannot keep {keptCount} from slot {firstChangedSlot}");
        int from = firstChangedSlot / BlockSize, to = BlocksFor(keptCount);
        int shared = 0;
        for (int i = from; i < to; i++)
            if (Pool.RefCount(table.Blocks[i]) > 1) shared++;
        if (shared > Pool.FreeBlocks) return null;
        for (int i = from; i < to; i++)
        {
            int block = table.Blocks[i];
            if (Pool.RefCount(block) > 1)
            {
                _scratch.Clear();
                Pool.TryAllocate(1, _scratch);
                copies.Add(new KvBlockCopy(block, _scratch[0]));
                Pool.Release(block);
                table.Blocks[i] = _scratch[0];
            }
            else
                Pool.Unregister(block);
        }
        var read = table.Blocks.ToArray();
        for (int i = table.Blocks.Count - 1; i >= to; i--)
        {
            Pool.Release(table.Blocks[i]);
            table.Blocks.RemoveAt(i);
        }
        table.Slots = keptCount;
        table.Compacted = true;
        return read;
    }

    /// <summary>
    /// Shrinks a sequence to its first <paramref name="slots"/> positions (speculative decoding's rejected drafts): the
    /// blocks past them go back to the pool. Blocks registered in the prefix cache hold only computed positions, which
    /// a truncation never goes below, so the cache stays true.
    /// </summary>
    public void Truncate(long sequenceId, int slots)
    {
        var table = Get(sequenceId);
        if (slots < 0 || slots > table.Slots)
            throw new ArgumentOutOfRangeException(nameof(slots), slots, $"sequence {sequenceId} holds {table.Slots} positions");
        if (slots < table.RegisteredBlocks * BlockSize)
            throw new InvalidOperationException($"sequence {sequenceId} cannot drop below its {table.RegisteredBlocks} cached blocks");
        int keep = BlocksFor(slots);
        for (int i = table.Blocks.Count - 1; i >= keep; i--)
        {
            Pool.Release(table.Blocks[i]);
            table.Blocks.RemoveAt(i);
        }
        table.Slots = slots;
    }

    /// <summary>Gives <paramref name="childId"/> the same blocks as <paramref name="parentId"/> (n samples of one prompt).</summary>
    public void Fork(long parentId, long childId)
    {
        var parent = Get(parentId);
        if (_tables.ContainsKey(childId))
            throw new InvalidOperationException($"sequence {childId} already has a block table");
        var child = new Table { Slots = parent.Slots, RegisteredBlocks = parent.RegisteredBlocks, LastHash = parent.LastHash, Compacted = parent.Compacted };
        foreach (int b in parent.Blocks)
        {
            Pool.Retain(b);
            child.Blocks.Add(b);
        }
        _tables[childId] = child;
    }

    /// <summary>
    /// Drops the sequence's table. Blocks are released last-first, so under pressure the tail of a prefix is
    /// evicted before its head (which more sequences are likely to share).
    /// </summary>
    public bool Free(long sequenceId)
    {
        if (!_tables.Remove(sequenceId, out var table)) return false;
        for (int i = table.Blocks.Count - 1; i >= 0; i--) Pool.Release(table.Blocks[i]);
        return true;
    }

    /// <summary>Block copies the engine must do before the next step's attention, then forgets them.</summary>
    public IReadOnlyList<KvBlockCopy> TakeCopies()
    {
        var copies = _copies.ToArray();
        _copies.Clear();
        return copies;
    }

    private Table Get(long sequenceId) =>
        _tables.TryGetValue(sequenceId, out var t) ? t : throw new KeyNotFoundException($"sequence {sequenceId} has no KV block table");
}
