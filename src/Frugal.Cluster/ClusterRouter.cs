using Frugal.Cluster.Wire;
using Frugal.Inference.KvPaging;
using Microsoft.Extensions.Logging;

namespace Frugal.Cluster;

/// <summary>A silo a request may go to, with what the router knows of it.</summary>
/// <param name="HitTokens">prompt tokens the silo holds in its prefix cache (whole blocks, as its engine would reuse them).</param>
/// <param name="Cost">estimated tokens of work before this request's first token there (see <see cref="ClusterRouter"/>).</param>
/// <param name="Chain">the prompt's block hashes at the silo's block size.</param>
public sealed record SiloChoice(string Silo, int HitTokens, long Cost, SiloReport Report, ulong[] Chain);

/// <summary>
/// Ranks the cluster's active silos for a request. Each silo publishes its load and a summary of its prefix cache
/// (the hashes of its cached blocks, <see cref="KvPrefixCacheJournal"/>); the router keeps a copy per silo, brought
/// up to date with the changes since the version it last saw, each time it ranks. It walks the prompt's block-hash
/// chain (<see cref="KvBlockHash"/>) against each copy: the leading hashes a silo holds are the tokens it would not
/// recompute.
/// <para>
/// A request routed to a silo takes a while to put its prompt's blocks in that silo's cache; meanwhile the router
/// counts them as held there ("expected", for <see cref="ExpectedLifetime"/> or until the silo reports them), so a
/// burst of one tenant's requests follows the first instead of each seeding the tenant's prefix on another silo
/// (SGLang's router keeps the same approximate tree of what it routed).
/// </para>
/// <para>
/// KV-aware score, the estimated work, in tokens, before this request's first token on silo s (lower is better):
/// <c>cost(s) = (P - hit(s)) + pending(s) / 2 + 16 * running(s)</c>, where P is the prompt's length, hit(s) the cached
/// (or expected) prefix, pending(s) the prompt tokens routed to s still waiting for their first token, and running(s)
/// its running sequences (each decode takes a slot of the step the new prefill shares). Pending work counts half:
/// a prefix computed again on a second silo costs its compute now and, later, the cache room of other prefixes, so
/// affinity wins until the queue behind the cached silo is about twice the prompt's uncached part; past that a hot
/// silo sheds load. A silo whose queue is full is skipped. Ties go to the silo with the least load, then in turn.
/// </para>
/// </summary>
public sealed class ClusterRouter(RoutingPolicy policy, IGrainFactory grains, IClusterMembershipService membership, ILogger<ClusterRouter> logger)
{
    /// <summary>Tokens of work one running sequence adds per step (its decode share), in the score.</summary>
    public const int RunningSequenceWeight = 16;

    /// <summary>How long a routed prompt's blocks count as held by its silo before the silo reports them.</summary>
    public static readonly TimeSpan ExpectedLifetime = TimeSpan.FromSeconds(30);

    private sealed class SiloView
    {
        public readonly HashSet<ulong> Hashes = [];
        public readonly Dictionary<ulong, long> Expected = []; // hash -> Stopwatch timestamp when it was routed
        public long Version;
        public SiloReport? Last;
        public long Routed;
    }

    /// <summary>How long a silo that failed to report or to start a request is left out, unless no other silo is left.</summary>
    public static readonly TimeSpan SuspectTime = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, SiloView> _views = [];
    private readonly Dictionary<string, long> _suspects = []; // silo -> Stopwatch timestamp it failed
    private readonly Lock _lock = new();
    private long _turn;

    public RoutingPolicy Policy { get; } = policy;

    /// <summary>Requests this router sent to another silo after the first it tried failed or refused.</summary>
    public long Retries => Interlocked.Read(ref _retries);
    private long _retries;

    internal void Retried() => Interlocked.Increment(ref _retries);

    /// <summary>Silos the membership lists as active now.</summary>
    public IReadOnlyList<string> ActiveSilos() =>
        membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress.ToParsableString()).Order(StringComparer.Ordinal).ToList();

    /// <summary>The latest report of every active silo that answers within <paramref name="timeout"/>, applied to the router's copies.</summary>
    public async Task<IReadOnlyList<(string Silo, SiloReport Report)>> RefreshAsync(TimeSpan timeout, IReadOnlyCollection<string>? exclude, CancellationToken cancellationToken)
    {
        var silos = ActiveSilos().Where(s => exclude is null || !exclude.Contains(s)).ToList();
        // Membership learns of a dead silo only after a while: meanwhile, asking it would stall every request for the timeout.
        lock (_lock)
        {
            long expired = System.Diagnostics.Stopwatch.GetTimestamp() - (long)(SuspectTime.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            foreach (var (silo, at) in _suspects)
                if (at < expired) _suspects.Remove(silo);
            if (silos.Any(s => !_suspects.ContainsKey(s))) silos.RemoveAll(_suspects.ContainsKey);
        }
        var asks = silos.Select(async silo =>
        {
            long since;
            lock (_lock) since = _views.TryGetValue(silo, out var v) ? v.Version : 0;
            try
            {
                var report = await grains.GetGrain<IEngineGrain>(silo).ReportAsync(since).WaitAsync(timeout, cancellationToken);
                return (silo, Report: Apply(silo, since, report));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug("silo {Silo} did not report: {Error}", silo, e.Message);
                Suspect(silo);
                return (silo, Report: (SiloReport?)null);
            }
        }).ToArray();
        var answers = await Task.WhenAll(asks);
        lock (_lock)
        {
            // Forget silos that left, so a silo that rejoins under the same address starts from a fresh summary.
            var active = ActiveSilos().ToHashSet();
            foreach (var gone in _views.Keys.Where(k => !active.Contains(k)).ToList()) _views.Remove(gone);
        }
        return answers.Where(a => a.Report is { Ready: true }).Select(a => (a.silo, a.Report!)).ToList();
    }

    private SiloReport Apply(string silo, long since, SiloReport report)
    {
        lock (_lock)
        {
            if (!_views.TryGetValue(silo, out var view)) _views[silo] = view = new SiloView();
            // Another request may have applied a newer report meanwhile: changes apply only on top of the version they follow.
            if (report.IsSnapshot)
            {
                view.Hashes.Clear();
                view.Hashes.UnionWith(report.Added);
                view.Version = report.Version;
            }
            else if (view.Version == since)
            {
                view.Hashes.ExceptWith(report.Removed);
                view.Hashes.UnionWith(report.Added);
                view.Version = report.Version;
            }
            foreach (ulong h in report.Added) view.Expected.Remove(h);
            long stale = System.Diagnostics.Stopwatch.GetTimestamp() - (long)(ExpectedLifetime.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
            foreach (var (h, at) in view.Expected)
                if (at < stale) view.Expected.Remove(h);
            view.Last = report;
            return report;
        }
    }

    /// <summary>
    /// The silos that can take a prompt of <paramref name="prompt"/> tokens, best first under <see cref="Policy"/>;
    /// silos in <paramref name="exclude"/> (tried already) are left out.
    /// </summary>
    public async Task<IReadOnlyList<SiloChoice>> RankAsync(IReadOnlyList<int> prompt, IReadOnlyCollection<string> exclude, CancellationToken cancellationToken)
    {
        var reports = await RefreshAsync(TimeSpan.FromSeconds(5), exclude, cancellationToken);
        var open = reports.Where(r => r.Report.QueuedRequests < Math.Max(1, r.Report.MaxQueuedRequests)).ToList();
        var tokens = prompt as int[] ?? [.. prompt];
        var chains = new Dictionary<int, ulong[]>();
        var choices = new List<SiloChoice>();
        foreach (var (silo, report) in open)
        {
            // The engine reuses whole blocks and always computes the prompt's last token itself.
            if (!chains.TryGetValue(report.BlockSize, out var chain))
                chains[report.BlockSize] = chain = KvPrefixCacheJournal.ChainHashes(tokens.AsSpan(0, Math.Max(0, tokens.Length - 1)), report.BlockSize);
            int hitBlocks = 0;
            lock (_lock)
            {
                if (_views.TryGetValue(silo, out var v))
                    while (hitBlocks < chain.Length && (v.Hashes.Contains(chain[hitBlocks]) || v.Expected.ContainsKey(chain[hitBlocks]))) hitBlocks++;
            }
            int hit = hitBlocks * report.BlockSize;
            long load = report.PendingPrefillTokens / 2 + RunningSequenceWeight * (long)report.RunningSequences;
            choices.Add(new SiloChoice(silo, hit, tokens.Length - hit + load, report, chain));
        }
        long turn = Interlocked.Increment(ref _turn);
        int n = Math.Max(1, choices.Count);
        // The turn rotates the order among equals, so equal silos share the work.
        var indexed = choices.Select((c, i) => (Choice: c, Rotation: (i - turn % n + n) % n)).ToList();
        var ranked = Policy switch
        {
            RoutingPolicy.RoundRobin => indexed.OrderBy(x => x.Rotation),
            RoutingPolicy.LeastLoaded => indexed.OrderBy(x => x.Choice.Cost + x.Choice.HitTokens).ThenBy(x => x.Rotation),
            _ => indexed.OrderBy(x => x.Choice.Cost).ThenBy(x => x.Choice.Cost + x.Choice.HitTokens).ThenBy(x => x.Rotation),
        };
        return ranked.Select(x => x.Choice).ToList();
    }

    /// <summary>Leaves <paramref name="silo"/> out of the ranking for <see cref="SuspectTime"/> (it failed a call).</summary>
    internal void Suspect(string silo)
    {
        lock (_lock) _suspects[silo] = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>Counts a request a silo accepted.</summary>
    internal void Routed(string silo)
    {
        lock (_lock)
            if (_views.TryGetValue(silo, out var v)) v.Routed++;
    }

    /// <summary>Expects the prompt's blocks on <paramref name="choice"/>'s silo from now on (it is being sent there).</summary>
    internal void Expect(SiloChoice choice)
    {
        if (Policy != RoutingPolicy.Kv) return;
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        lock (_lock)
        {
            if (!_views.TryGetValue(choice.Silo, out var v)) return;
            foreach (ulong h in choice.Chain)
                if (!v.Hashes.Contains(h)) v.Expected[h] = now;
        }
    }

    /// <summary>Requests this router has sent to each silo it knows.</summary>
    public IReadOnlyDictionary<string, long> RoutedCounts()
    {
        lock (_lock) return _views.ToDictionary(p => p.Key, p => p.Value.Routed);
    }
}
