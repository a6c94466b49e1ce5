using System.Runtime.InteropServices;
using Frugal.Inference.Retention;

namespace Frugal.Inference.Scheduling;

public enum SequenceStatus
{
    /// <summary>Queued (new, or preempted and waiting to be recomputed); holds no KV blocks.</summary>
    Waiting,

    /// <summary>Holds KV blocks and advances in steps.</summary>
    Running,

    Finished,
}

public enum FinishReason
{
    None,

    /// <summary>The model produced an end-of-generation token (or a stop condition the caller detected).</summary>
    Stop,

    /// <summary>max_tokens reached.</summary>
    Length,

    /// <summary>The client went away or the caller cancelled.</summary>
    Cancelled,
}

/// <summary>One request's progress as the scheduler sees it: its tokens and how many of them have K/V.</summary>
public sealed class ScheduledSequence
{
    private readonly List<int> _tokens;

    internal ScheduledSequence(long id, int[] prompt, int maxNewTokens, long arrival, KvRetention? retention)
    {
        Id = id;
        Retention = retention;
        PromptLength = prompt.Length;
        MaxNewTokens = maxNewTokens;
        Arrival = arrival;
        _tokens = [.. prompt];
    }

    public long Id { get; }

    public int PromptLength { get; }

    public int MaxNewTokens { get; }

    /// <summary>Order of arrival; also the tie-breaker that keeps scheduling deterministic.</summary>
    public long Arrival { get; }

    public SequenceStatus Status { get; internal set; }

    public FinishReason FinishReason { get; internal set; }

    /// <summary>Context shift or budget eviction for this sequence; null: it ends at the context.</summary>
    public KvRetention? Retention { get; }

    /// <summary>Most positions the sequence may hold at once.</summary>
    public int Limit => Retention?.Limit ?? int.MaxValue;

    /// <summary>
    /// The tokens whose positions the sequence holds (prompt and generated, minus what shifts and evictions dropped: token
    /// i sits at position i), then those still to compute.
    /// </summary>
    public IReadOnlyList<int> Tokens => _tokens;

    internal ReadOnlySpan<int> TokenSpan => CollectionsMarshal.AsSpan(_tokens);

    public int TotalTokens => _tokens.Count;

    public int GeneratedTokens { get; private set; }

    /// <summary>Positions dropped by context shifts and evictions.</summary>
    public int DroppedTokens { get; private set; }

    /// <summary>Compactions (shifts, evictions) so far.</summary>
    public int Compactions { get; private set; }

    /// <summary>Tokens whose K/V is in the cache; the next chunk starts here.</summary>
    public int ComputedTokens { get; internal set; }

    /// <summary>Tokens served from the prefix cache at the latest admission.</summary>
    public int CachedPrefixTokens { get; internal set; }

    /// <summary>Times the sequence was preempted (its blocks freed, to be recomputed).</summary>
    public int Preemptions { get; internal set; }

    /// <summary>Order of the latest admission to the running set; preemption picks the newest.</summary>
    internal long AdmittedAt { get; set; }

    internal void Append(int token)
    {
        _tokens.Add(token);
        GeneratedTokens++;
    }

    /// <summary>Keeps the tokens of <paramref name="kept"/> (ascending slots of the first <paramref name="held"/>) and those not yet computed.</summary>
    internal void Compact(ReadOnlySpan<int> kept, int held)
    {
        var next = new List<int>(kept.Length + _tokens.Count - held);
        foreach (int slot in kept) next.Add(_tokens[slot]);
        for (int i = held; i < _tokens.Count; i++) next.Add(_tokens[i]);
        _tokens.Clear();
        _tokens.AddRange(next);
        ComputedTokens = kept.Length;
        DroppedTokens += held - kept.Length;
        Compactions++;
    }
}
