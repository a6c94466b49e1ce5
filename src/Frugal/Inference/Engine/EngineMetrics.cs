namespace Frugal.Inference.Engine;

/// <summary>A cumulative histogram (Prometheus-style buckets) that any thread may observe into.</summary>
public sealed class LatencyHistogram
{
    private readonly long[] _counts;
    private long _count;
    private double _sum;
    private readonly Lock _lock = new();

    public LatencyHistogram(IReadOnlyList<double> upperBounds)
    {
        UpperBounds = upperBounds;
        _counts = new long[upperBounds.Count];
    }

    /// <summary>Bucket upper bounds in seconds, ascending; a last +Inf bucket is implied.</summary>
    public IReadOnlyList<double> UpperBounds { get; }

    public void Observe(double seconds)
    {
        lock (_lock)
        {
            for (int i = 0; i < _counts.Length; i++)
                if (seconds <= UpperBounds[i]) _counts[i]++;
            _count++;
            _sum += seconds;
        }
    }

    /// <summary>Cumulative counts per bucket, total count and sum.</summary>
    public (long[] Cumulative, long Count, double Sum) Snapshot()
    {
        lock (_lock) return ((long[])_counts.Clone(), _count, _sum);
    }
}

/// <summary>What the engine has done and holds, for /metrics. Counters only grow; gauges are set after each step.</summary>
public sealed class EngineMetrics
{
    private static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private long _requests, _promptTokens, _completionTokens, _rejected, _steps;

    public long Requests => Interlocked.Read(ref _requests);
    public long RejectedRequests => Interlocked.Read(ref _rejected);
    public long PromptTokens => Interlocked.Read(ref _promptTokens);
    public long CompletionTokens => Interlocked.Read(ref _completionTokens);
    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>Requests submitted but not yet given their first step.</summary>
    public int QueueDepth => Volatile.Read(ref _queueDepth);
    private int _queueDepth;

    public int RunningSequences { get; internal set; }
    public int KvBlocksUsed { get; internal set; }
    public int KvBlocksFree { get; internal set; }
    public long PrefixCacheHits { get; internal set; }
    public long PrefixCacheHitTokens { get; internal set; }
    public long Preemptions { get; internal set; }

    /// <summary>Most KV blocks one sequence has held at the end of a step, since the engine started.</summary>
    public int KvBlocksPerSequencePeak { get; internal set; }

    /// <summary>Context shifts and budget evictions done.</summary>
    public long KvCompactions => Interlocked.Read(ref _compactions);
    private long _compactions;

    internal void KvCompacted() => Interlocked.Increment(ref _compactions);

    /// <summary>Tokens drafted by speculative decoding and verified by the model.</summary>
    public long SpeculativeDrafted => Interlocked.Read(ref _drafted);

    /// <summary>Of those, tokens the model accepted.</summary>
    public long SpeculativeAccepted => Interlocked.Read(ref _accepted);
    private long _drafted, _accepted;

    internal void Speculated(int drafted, int accepted)
    {
        Interlocked.Add(ref _drafted, drafted);
        Interlocked.Add(ref _accepted, accepted);
    }

    /// <summary>Samples that forked another sample's prompt KV instead of computing the prompt (n > 1, repeated sampling).</summary>
    public long ForkedSamples => Interlocked.Read(ref _forked);
    private long _forked;

    internal void Forked() => Interlocked.Increment(ref _forked);

    public LatencyHistogram TimeToFirstToken { get; } = new(Buckets);
    public LatencyHistogram InterTokenLatency { get; } = new(Buckets);

    internal int EnterQueue() => Interlocked.Increment(ref _queueDepth);
    internal void LeaveQueue() => Interlocked.Decrement(ref _queueDepth);
    internal void Request(int promptTokens)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _promptTokens, promptTokens);
    }
    internal void Rejected() => Interlocked.Increment(ref _rejected);
    internal void Completion(int tokens) => Interlocked.Add(ref _completionTokens, tokens);
    internal void Step() => Interlocked.Increment(ref _steps);
}
