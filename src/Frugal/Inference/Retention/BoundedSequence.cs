using Frugal.Models;
using Frugal.Numerics.Attention;

namespace Frugal.Inference.Retention;

/// <summary>What one compaction did: how many positions the sequence held, which slots it kept, and their tokens.</summary>
/// <param name="KeptTokens">the token now at each slot 0..m-1 (slot i holds RoPE position i).</param>
public sealed record KvCompactionEvent(int HeldBefore, IReadOnlyList<int> KeptSlots, IReadOnlyList<int> KeptTokens);

/// <summary>
/// One sequence's KV cache under a <see cref="KvRetention"/>, for the single-sequence paths (run, eval, perplexity,
/// bench): <see cref="Forward"/> evaluates tokens in chunks that fit and, before a chunk that would pass the limit,
/// makes room (context shift or budget eviction) with the model's <c>CompactKv</c>. The engine applies the same
/// <see cref="KvRetention"/> through its scheduler.
/// </summary>
public sealed class BoundedSequence
{
    private readonly ILanguageModel _model;
    private readonly KvCache _cache;
    private readonly List<int> _tokens = [];   // the token at each slot
    private float[] _scores = [];

    /// <param name="capacity">positions wanted at most (prompt + new tokens); the cache holds at most the retention's limit.</param>
    public BoundedSequence(ILanguageModel model, KvCacheTypes types, int capacity, KvRetention retention)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Retention = retention ?? throw new ArgumentNullException(nameof(retention));
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (retention.CanMakeRoom && model is not IBatchedLanguageModel)
            throw new NotSupportedException($"{model.GetType().Name} cannot compact its KV cache (context shift, KV budget)");
        _cache = model.CreateCache(Math.Min(capacity, retention.Limit), types);
    }

    public KvRetention Retention { get; }

    /// <summary>Positions held now; the next token sits at this position.</summary>
    public int Count => _cache.Count;

    /// <summary>Most positions held at once.</summary>
    public int Capacity => _cache.Capacity;

    /// <summary>The token at each held slot.</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    public int Compactions { get; private set; }

    /// <summary>Called after each compaction (tests, logs).</summary>
    public Action<KvCompactionEvent>? Compacted { get; init; }

    /// <summary>Empties the cache (a new sequence starts).</summary>
    public void Reset()
    {
        _cache.Truncate(0);
        _tokens.Clear();
    }

    /// <summary>Drops the positions from <paramref name="count"/> on (speculative decoding's rejected drafts).</summary>
    public void Truncate(int count)
    {
        _cache.Truncate(count);
        _tokens.RemoveRange(count, _tokens.Count - count);
    }

    /// <summary>Positions left before the cache is full (before any shift or eviction).</summary>
    public int Room => _cache.Capacity - _cache.Count;

    /// <summary>Whether <paramref name="tokens"/> more can be evaluated (room now, or room that a shift or eviction makes).</summary>
    public bool HasRoomFor(int tokens) => _cache.Count + tokens <= _cache.Capacity || Retention.CanMakeRoom;

    /// <summary>
    /// Evaluates <paramref name="tokens"/> after the held ones, as <see cref="ILanguageModel.Forward"/> does, making room
    /// whenever the cache is full. <paramref name="logits"/>: the last token's [vocab], or [tokens, vocab] with
    /// <paramref name="allLogits"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">the cache is full and the retention can neither shift nor evict.</exception>
    public void Forward(ReadOnlySpan<int> tokens, Span<float> logits, bool allLogits = false)
    {
        int vocab = _model.Config.VocabSize, done = 0;
        while (done < tokens.Length)
        {
            if (_cache.Count == _cache.Capacity)
            {
                if (!Retention.CanMakeRoom)
                    throw new InvalidOperationException($"the KV cache is full ({_cache.Capacity} positions) and neither a context shift nor a KV budget is set");
                MakeRoom();
            }
            int n = Math.Min(_cache.Capacity - _cache.Count, tokens.Length - done);
            var chunk = tokens.Slice(done, n);
            _model.Forward(chunk, _cache, allLogits ? logits.Slice(done * vocab, n * vocab) : logits, allLogits);
            foreach (int t in chunk) _tokens.Add(t);
            done += n;
        }
    }

    private void MakeRoom()
    {
        var model = (IBatchedLanguageModel)_model;
        var cache = (PagedSequenceCache)_cache;
        int held = cache.Count;
        var kept = Retention.KeptSlots(held, () =>
        {
            if (_scores.Length < held) _scores = new float[held];
            cache.Store.KeySimilarityToMean(cache.BlockTable, held, _scores);
            return _scores;
        });
        model.CompactKv(cache.Store, cache.BlockTable, held, kept);
        cache.Truncate(kept.Length);
        var keptTokens = kept.Select(s => _tokens[s]).ToArray();
        _tokens.Clear();
        _tokens.AddRange(keptTokens);
        Compactions++;
        Compacted?.Invoke(new KvCompactionEvent(held, kept, keptTokens));
    }
}
