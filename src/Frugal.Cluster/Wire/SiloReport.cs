namespace Frugal.Cluster.Wire;

/// <summary>
/// What a silo publishes to the routers: its load and the changes of its prefix-cache summary since the version the
/// router last saw (<see cref="Frugal.Inference.KvPaging.KvPrefixCacheJournal"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed class SiloReport
{
    /// <summary>False while the silo's model loads (it takes no requests then).</summary>
    [Id(0)] public bool Ready { get; init; }
    [Id(1)] public int BlockSize { get; init; }
    [Id(2)] public int RunningSequences { get; init; }
    [Id(3)] public int QueuedRequests { get; init; }
    [Id(4)] public int MaxQueuedRequests { get; init; }

    /// <summary>Prompt tokens routed here that have not yet produced their first token: the prefill work ahead of a new request.</summary>
    [Id(5)] public long PendingPrefillTokens { get; init; }
    [Id(6)] public int KvBlocksFree { get; init; }
    [Id(7)] public int KvBlocksTotal { get; init; }
    [Id(8)] public long PrefixCacheHits { get; init; }
    [Id(9)] public long PrefixCacheHitTokens { get; init; }
    [Id(10)] public long PromptTokens { get; init; }
    [Id(11)] public long Requests { get; init; }

    /// <summary>Version of the prefix-cache summary after <see cref="Added"/> and <see cref="Removed"/>.</summary>
    [Id(12)] public long Version { get; init; }

    /// <summary>True when <see cref="Added"/> is the whole summary rather than the changes.</summary>
    [Id(13)] public bool IsSnapshot { get; init; }
    [Id(14)] public ulong[] Added { get; init; } = [];
    [Id(15)] public ulong[] Removed { get; init; } = [];
}
