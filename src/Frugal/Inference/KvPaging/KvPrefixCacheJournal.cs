namespace Frugal.Inference.KvPaging;

/// <summary>What changed in a prefix cache since a version: block hashes added and removed, or the whole set.</summary>
/// <param name="Version">the journal's version after these changes; ask for changes since it next time.</param>
/// <param name="IsSnapshot">true when <paramref name="Added"/> is the whole set (the asked version was too old or unknown).</param>
public sealed record KvPrefixCacheChanges(long Version, bool IsSnapshot, IReadOnlyList<ulong> Added, IReadOnlyList<ulong> Removed);

/// <summary>
/// The block hashes a <see cref="KvBlockPool"/> holds in its prefix cache, and a bounded log of their insertions and
/// evictions, so another machine can keep a copy up to date by asking for the changes since its last version (the
/// KV events llm-d's router follows). Each hash names a whole prefix (<see cref="KvBlockHash"/> chains its parent),
/// so the set is a compact summary of every cached prefix: at most one 8-byte hash per pool block. Thread-safe: the
/// engine loop writes, any thread reads.
/// </summary>
public sealed class KvPrefixCacheJournal(int logCapacity = 4096)
{
    private readonly Lock _lock = new();
    private readonly HashSet<ulong> _held = [];
    private readonly Queue<(long Version, ulong Hash, bool Added)> _log = new();
    private long _version;

    /// <summary>Bumped by every insertion and eviction.</summary>
    public long Version
    {
        get { lock (_lock) return _version; }
    }

    /// <summary>Hashes held now.</summary>
    public int Count
    {
        get { lock (_lock) return _held.Count; }
    }

    internal void Added(KvBlockHash hash) => Record(hash.Value, added: true);

    internal void Removed(KvBlockHash hash) => Record(hash.Value, added: false);

    private void Record(ulong hash, bool added)
    {
        lock (_lock)
        {
            if (added ? !_held.Add(hash) : !_held.Remove(hash)) return;
            _log.Enqueue((++_version, hash, added));
            while (_log.Count > logCapacity) _log.Dequeue();
        }
    }

    /// <summary>
    /// The changes after <paramref name="version"/> (0 or a version this journal never had: the whole set). Applying
    /// them in order to the set as of <paramref name="version"/> gives the set as of the returned version.
    /// </summary>
    public KvPrefixCacheChanges Since(long version)
    {
        lock (_lock)
        {
            if (version == _version) return new KvPrefixCacheChanges(_version, false, [], []);
            // The log must still hold every change after version: its oldest entry is version + 1 or earlier.
            bool inLog = version > 0 && version < _version && _log.Count > 0 && _log.Peek().Version <= version + 1;
            if (!inLog) return new KvPrefixCacheChanges(_version, true, _held.ToArray(), []);
            var added = new List<ulong>();
            var removed = new List<ulong>();
            foreach (var (v, hash, isAdd) in _log)
            {
                if (v <= version) continue;
                (isAdd ? added : removed).Add(hash);
                (isAdd ? removed : added).Remove(hash);
            }
            return new KvPrefixCacheChanges(_version, false, added, removed);
        }
    }

    /// <summary>Hashes of the leading full blocks of <paramref name="tokens"/>, as the pool names them (root first).</summary>
    public static ulong[] ChainHashes(ReadOnlySpan<int> tokens, int blockSize)
    {
        var hashes = new ulong[tokens.Length / blockSize];
        var parent = KvBlockHash.Root;
        for (int i = 0; i < hashes.Length; i++)
        {
            parent = KvBlockHash.Of(parent, tokens.Slice(i * blockSize, blockSize));
            hashes[i] = parent.Value;
        }
        return hashes;
    }
}
