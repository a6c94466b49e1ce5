using Frugal.Inference.KvPaging;
using Frugal.Inference.Retention;

namespace Frugal.Inference.Scheduling;

/// <summary>
/// Continuous batching at token granularity (Orca; chunked prefill as in Sarathi; the plan/update split of vLLM
/// v1's scheduler). <see cref="Plan"/> picks which sequences advance by how many tokens this step: running
/// decodes first, then running prefills in chunks, then waiting sequences admitted (with their cached prefix)
/// while the token budget, the running-sequence limit and the KV blocks allow. When a running sequence needs a
/// block and none is free, the newest running sequence is preempted: its blocks are freed and it is recomputed
/// later (its full blocks usually survive in the prefix cache). <see cref="Update"/> takes the sampled tokens.
/// A sequence with a <see cref="KvRetention"/> never holds more than its limit: when it is full with work left, the
/// plan first compacts it (context shift or budget eviction; <see cref="StepPlan.Compactions"/>), and its chunks are
/// cut to the room left.
/// Pure: no I/O, no threads, no clock; the same calls give the same plans.
/// </summary>
public sealed class Scheduler
{
    private readonly KeyScoring? _keyScores;
    private readonly SchedulerOptions _options;
    private readonly Dictionary<long, ScheduledSequence> _live = [];
    private readonly LinkedList<ScheduledSequence> _waiting = new();
    private readonly List<ScheduledSequence> _running = [];  // in admission order, newest last
    private readonly Dictionary<long, List<ScheduledSequence>> _forks = [];  // parent id -> samples waiting to fork its prompt
    private StepPlan? _pending;
    private long _arrivals, _admissions, _steps;

    /// <param name="keyScores">reads KeyDiff's scores of a sequence's keys (the engine's store); needed for the keydiff policy.</param>
    public Scheduler(KvBlockTables kv, SchedulerOptions? options = null, KeyScoring? keyScores = null)
    {
        _keyScores = keyScores;
        Kv = kv ?? throw new ArgumentNullException(nameof(kv));
        _options = options ?? new SchedulerOptions();
        _options.Validate();
    }

    public KvBlockTables Kv { get; }

    public SchedulerOptions Options => _options;

    public int WaitingCount => _waiting.Count;

    public int RunningCount => _running.Count;

    public bool HasWork => _live.Count > 0;

    public long TotalPreemptions { get; private set; }

    /// <summary>A live (waiting or running) sequence, or null.</summary>
    public ScheduledSequence? Find(long sequenceId) => _live.GetValueOrDefault(sequenceId);

    /// <summary>Queues a request. Rejects one that could never fit in the KV pool even alone.</summary>
    /// <param name="forkOf">
    /// another sample of the same prompt, queued and not yet prefilled: this one waits for it and, in the step its
    /// prompt's last token is computed, takes a fork of its block table (every block shared, the partly filled last
    /// one copied on its first write) and samples its first token from the same logits (<see cref="StepPlan.Forks"/>),
    /// so n samples compute their prompt once. When the fork cannot happen (no running slot left, the parent gone or
    /// compacted) it waits in the queue as any request and reuses the prompt's full blocks from the prefix cache.
    /// </param>
    public ScheduledSequence Add(long sequenceId, ReadOnlySpan<int> prompt, int maxNewTokens, KvRetention? retention = null, long? forkOf = null)
    {
        if (prompt.IsEmpty) throw new ArgumentException("a prompt needs at least one token", nameof(prompt));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        if (_live.ContainsKey(sequenceId)) throw new ArgumentException($"sequence {sequenceId} is already scheduled", nameof(sequenceId));
        if (retention is { NeedsKeyScores: true } && _keyScores is null)
            throw new ArgumentException("the keydiff policy needs key scores, and this scheduler was given none", nameof(retention));
        long needed = Kv.BlocksFor((int)Math.Min((long)prompt.Length + maxNewTokens, retention?.Limit ?? int.MaxValue));
        if (needed > Kv.Pool.TotalBlocks)
            throw new ArgumentException(
                $"{prompt.Length} prompt tokens + {maxNewTokens} new tokens need {needed} KV blocks of {Kv.BlockSize} tokens, but the pool has {Kv.Pool.TotalBlocks}",
                nameof(maxNewTokens));
        var seq = new ScheduledSequence(sequenceId, prompt.ToArray(), maxNewTokens, _arrivals++, retention);
        _live[sequenceId] = seq;
        if (forkOf is long parentId && _live.TryGetValue(parentId, out var parent) && parent.GeneratedTokens == 0 && parent.Compactions == 0
            && parent.Tokens.SequenceEqual(seq.Tokens))
        {
            if (!_forks.TryGetValue(parentId, out var children)) _forks[parentId] = children = [];
            children.Add(seq);
        }
        else
            _waiting.AddLast(seq);
        return seq;
    }

    /// <summary>Ends a sequence now (client gone) and frees its blocks. False if it is not live.</summary>
    public bool Cancel(long sequenceId)
    {
        if (!_live.TryGetValue(sequenceId, out var seq)) return false;
        Finish(seq, FinishReason.Cancelled);
        return true;
    }

    /// <summary>
    /// Plans the next step. Call <see cref="Update"/> with its results before planning again. <paramref name="drafts"/>:
    /// tokens drafted for decoding sequences (speculative decoding); each is cut to the token budget, the tokens the
    /// sequence may still generate and its room (<see cref="ScheduledChunk.Drafted"/> says how many are verified).
    /// </summary>
    public StepPlan Plan(IReadOnlyDictionary<long, int>? drafts = null)
    {
        if (_pending is not null)
            throw new InvalidOperationException($"step {_pending.Step} was planned but not updated; call Update before Plan");
        int budget = _options.MaxTokensPerStep;
        var chunks = new List<ScheduledChunk>();
        var scheduled = new HashSet<long>();
        var preempted = new List<long>();
        var compactions = Compactions(preempted);

        foreach (bool decodes in (bool[])[true, false])
        {
            for (int i = 0; i < _running.Count && budget > 0; i++)
            {
                var seq = _running[i];
                int remaining = seq.TotalTokens - seq.ComputedTokens;
                bool isDecode = remaining == 1 && seq.GeneratedTokens > 0;
                if (isDecode != decodes || scheduled.Contains(seq.Id)) continue;
                int n = Math.Min(remaining, budget);
                if (!isDecode) n = Math.Min(n, _options.MaxPrefillChunk);
                n = Math.Min(n, seq.Limit - seq.ComputedTokens);
                if (n <= 0) continue;
                int drafted = 0;
                if (isDecode && drafts is not null && drafts.TryGetValue(seq.Id, out int wanted))
                {
                    drafted = Math.Max(0, Math.Min(Math.Min(wanted, budget - 1), Math.Min(seq.Limit - seq.ComputedTokens - 1, seq.MaxNewTokens - seq.GeneratedTokens - 1)));
                    // Drafts only take free blocks: a sequence is never preempted to make room for a guess.
                    if (drafted > 0 && !Kv.TryAllocate(seq.Id, n + drafted)) drafted = 0;
                    else if (drafted > 0)
                    {
                        scheduled.Add(seq.Id);
                        chunks.Add(new ScheduledChunk(seq.Id, seq.ComputedTokens, n + drafted, true, drafted));
                        budget -= n + drafted;
                        i = _running.IndexOf(seq);
                        continue;
                    }
                }
                if (!AllocateOrPreempt(seq, n, scheduled, preempted))
                {
                    i = _running.IndexOf(seq); // preemption shrank the list; seq itself may be gone
                    if (i < 0) break;
                    continue;
                }
                scheduled.Add(seq.Id);
                chunks.Add(new ScheduledChunk(seq.Id, seq.ComputedTokens, n, seq.ComputedTokens + n == seq.TotalTokens));
                budget -= n;
                i = _running.IndexOf(seq);
            }
        }

        // New admissions only in a step that preempted nothing: memory is tight otherwise.
        while (preempted.Count == 0 && budget > 0 && _waiting.Count > 0 && _running.Count < _options.MaxRunningSequences)
        {
            var seq = _waiting.First!.Value;
            var hit = Kv.FindCachedPrefix(seq.TokenSpan, seq.Limit);
            int n = Math.Min(Math.Min(seq.TotalTokens - hit.Tokens, budget), Math.Min(_options.MaxPrefillChunk, seq.Limit - hit.Tokens));
            if (!Kv.TryAllocate(seq.Id, n, hit, seq.TotalTokens))
                break;
            _waiting.RemoveFirst();
            seq.Status = SequenceStatus.Running;
            seq.ComputedTokens = hit.Tokens;
            seq.CachedPrefixTokens = hit.Tokens;
            seq.AdmittedAt = _admissions++;
            _running.Add(seq);
            scheduled.Add(seq.Id);
            chunks.Add(new ScheduledChunk(seq.Id, seq.ComputedTokens, n, seq.ComputedTokens + n == seq.TotalTokens));
            budget -= n;
        }

        _pending = new StepPlan(_steps++, chunks, preempted, Kv.TakeCopies(), compactions) { Forks = PlanForks(chunks) };
        return _pending;
    }

    /// <summary>
    /// Consumes a planned step's results: every chunk's tokens now have K/V, and each chunk that samples gets its
    /// token (from <paramref name="sampled"/>). Sequences cancelled since the plan are skipped.
    /// </summary>
    public StepOutcome Update(StepPlan plan, IReadOnlyList<SampledToken> sampled)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(sampled);
        if (!ReferenceEquals(plan, _pending))
            throw new InvalidOperationException($"step {plan.Step} is not the step awaiting its results");
        _pending = null;
        var byId = new Dictionary<long, List<SampledToken>>();
        foreach (var s in sampled)
        {
            if (!byId.TryGetValue(s.SequenceId, out var list)) byId[s.SequenceId] = list = [];
            list.Add(s);
        }

        var appended = new List<SampledToken>();
        var finished = new List<(long, FinishReason)>();
        foreach (var chunk in plan.Chunks)
        {
            var fork = plan.Forks.FirstOrDefault(f => f.Parent == chunk.SequenceId);
            if (!_live.TryGetValue(chunk.SequenceId, out var seq) || seq.Status != SequenceStatus.Running)
            {
                // Cancelled after the plan: its planned forks queue as ordinary requests.
                foreach (long c in fork?.Children ?? [])
                    if (_live.TryGetValue(c, out var child)) _waiting.AddLast(child);
                continue;
            }
            if (chunk.Drafted == 0)
            {
                seq.ComputedTokens = chunk.Start + chunk.Count;
                Kv.MarkComputed(seq.Id, seq.TokenSpan, seq.ComputedTokens);
            }
            if (!chunk.SamplesNext)
                continue;
            if (!byId.TryGetValue(seq.Id, out var tokens))
                throw new ArgumentException($"sequence {seq.Id} reached the end of its tokens this step but no sampled token was given", nameof(sampled));
            if (tokens.Count > 1 + chunk.Drafted)
                throw new ArgumentException($"{tokens.Count} sampled tokens for sequence {seq.Id}, whose chunk verified {chunk.Drafted} drafted tokens", nameof(sampled));
            if (fork is not null) Fork(fork, seq, byId, appended, finished); // before the parent's token: it may finish (and free) the parent
            var reason = FinishReason.None;
            foreach (var token in tokens)
            {
                seq.Append(token.Token);
                appended.Add(token);
                reason = token.Stop ? FinishReason.Stop : seq.GeneratedTokens >= seq.MaxNewTokens ? FinishReason.Length : FinishReason.None;
                if (reason != FinishReason.None) break;
            }
            if (chunk.Drafted > 0)
            {
                // The accepted drafts (every token but the last) have K/V; the rejected positions go back.
                seq.ComputedTokens = chunk.Start + Math.Min(tokens.Count, 1 + chunk.Drafted);
                Kv.Truncate(seq.Id, seq.ComputedTokens);
                Kv.MarkComputed(seq.Id, seq.TokenSpan, seq.ComputedTokens);
            }
            if (reason != FinishReason.None)
            {
                Finish(seq, reason);
                finished.Add((seq.Id, reason));
            }
        }
        return new StepOutcome(appended, finished);
    }

    /// <summary>
    /// The forks this step makes: a parent whose chunk computes its prompt's last token (uncompacted) gives its waiting
    /// samples its blocks, as many as the running limit allows; the others join the queue.
    /// </summary>
    private List<ScheduledFork> PlanForks(List<ScheduledChunk> chunks)
    {
        var forks = new List<ScheduledFork>();
        if (_forks.Count == 0) return forks;
        int room = _options.MaxRunningSequences - _running.Count;
        foreach (var chunk in chunks)
        {
            if (!chunk.SamplesNext || !_forks.Remove(chunk.SequenceId, out var children)) continue;
            var parent = _live[chunk.SequenceId];
            int take = parent.GeneratedTokens == 0 && parent.Compactions == 0 ? Math.Clamp(room, 0, children.Count) : 0;
            if (take > 0) forks.Add(new ScheduledFork(parent.Id, children.Take(take).Select(c => c.Id).ToArray()));
            room -= take;
            foreach (var c in children.Skip(take)) _waiting.AddLast(c);
        }
        return forks;
    }

    /// <summary>Runs a planned fork after the parent's chunk: each child shares its blocks and takes its sampled token.</summary>
    private void Fork(ScheduledFork fork, ScheduledSequence parent, Dictionary<long, List<SampledToken>> byId, List<SampledToken> appended,
        List<(long, FinishReason)> finished)
    {
        foreach (long childId in fork.Children)
        {
            if (!_live.TryGetValue(childId, out var child)) continue; // cancelled after the plan
            Kv.Fork(parent.Id, child.Id);
            child.Status = SequenceStatus.Running;
            child.ComputedTokens = parent.ComputedTokens;
            child.CachedPrefixTokens = parent.ComputedTokens;
            child.AdmittedAt = _admissions++;
            _running.Add(child);
            if (!byId.TryGetValue(child.Id, out var tokens) || tokens.Count != 1)
                throw new ArgumentException($"sequence {child.Id} forks this step but was not given exactly one sampled token", nameof(byId));
            Append(child, tokens[0], appended, finished);
        }
    }

    private void Append(ScheduledSequence seq, SampledToken token, List<SampledToken> appended, List<(long, FinishReason)> finished)
    {
        seq.Append(token.Token);
        appended.Add(token);
        var reason = token.Stop ? FinishReason.Stop : seq.GeneratedTokens >= seq.MaxNewTokens ? FinishReason.Length : FinishReason.None;
        if (reason != FinishReason.None)
        {
            Finish(seq, reason);
            finished.Add((seq.Id, reason));
        }
    }

    /// <summary>
    /// Compacts every running sequence that is full with work left (its retention picks the kept slots; the block
    /// tables give back what they no longer need). A sequence whose shared blocks cannot be copied for lack of free
    /// blocks is preempted instead: it is recomputed later from the tokens it holds.
    /// </summary>
    private List<KvCompactionStep> Compactions(List<long> preempted)
    {
        var steps = new List<KvCompactionStep>();
        for (int i = 0; i < _running.Count; i++)
        {
            var seq = _running[i];
            int held = seq.ComputedTokens;
            if (seq.TotalTokens == held || held < seq.Limit) continue;
            var retention = seq.Retention!;
            if (!retention.CanMakeRoom)
                throw new InvalidOperationException($"sequence {seq.Id} holds its limit of {seq.Limit} positions and may neither shift nor evict");
            var kept = retention.KeptSlots(held, retention.NeedsKeyScores ? () => Scores(seq.Id, held) : null);
            int first = 0;
            while (first < kept.Length && kept[first] == first) first++;
            var copies = new List<KvBlockCopy>();
            if (Kv.Compact(seq.Id, first, kept.Length, copies) is not { } table)
            {
                Preempt(seq);
                preempted.Add(seq.Id);
                i--;
                continue;
            }
            seq.Compact(kept, held);
            steps.Add(new KvCompactionStep(seq.Id, held, kept, table, copies));
        }
        return steps;
    }

    private float[] Scores(long sequenceId, int count)
    {
        var scores = new float[count];
        _keyScores!(Kv.BlockTable(sequenceId), count, scores);
        return scores;
    }

    /// <summary>
    /// Allocates <paramref name="n"/> positions for a running sequence, preempting the newest unscheduled running
    /// sequences until it fits. Returns false when <paramref name="seq"/> itself had to be preempted.
    /// </summary>
    private bool AllocateOrPreempt(ScheduledSequence seq, int n, HashSet<long> scheduled, List<long> preempted)
    {
        while (!Kv.TryAllocate(seq.Id, n))
        {
            ScheduledSequence? victim = null;
            for (int j = _running.Count - 1; j >= 0; j--)
            {
                if (!scheduled.Contains(_running[j].Id))
                {
                    victim = _running[j];
                    break;
                }
            }
            victim ??= seq;
            Preempt(victim);
            preempted.Add(victim.Id);
            if (victim == seq)
                return false;
        }
        return true;
    }

    private void Preempt(ScheduledSequence seq)
    {
        Kv.Free(seq.Id);
        _running.Remove(seq);
        seq.Status = SequenceStatus.Waiting;
        seq.ComputedTokens = 0;
        seq.Preemptions++;
        TotalPreemptions++;
        _waiting.AddFirst(seq); // ahead of new arrivals, so it resumes first
    }

    private void Finish(ScheduledSequence seq, FinishReason reason)
    {
        // Samples still waiting to fork a parent that ends before its prompt is computed queue on their own.
        if (_forks.Remove(seq.Id, out var children))
            foreach (var c in children) _waiting.AddLast(c);
        foreach (var list in _forks.Values) list.Remove(seq);
        Kv.Free(seq.Id);
        if (seq.Status == SequenceStatus.Running) _running.Remove(seq);
        else _waiting.Remove(seq);
        seq.Status = SequenceStatus.Finished;
        seq.FinishReason = reason;
        _live.Remove(seq.Id);
    }
}

/// <summary>Writes KeyDiff's score of each of a sequence's first <paramref name="count"/> positions into <paramref name="scores"/>.</summary>
public delegate void KeyScoring(IReadOnlyList<int> blockTable, int count, Span<float> scores);
