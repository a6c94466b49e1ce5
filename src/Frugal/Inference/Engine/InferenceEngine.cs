using System.Diagnostics;
using System.Collections.Concurrent;
using Frugal.Inference.KvPaging;
using Frugal.Inference.Retention;
using Frugal.Inference.Scheduling;
using Frugal.Inference.Speculation;
using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Tokenization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Frugal.Inference.Engine;

/// <summary>
/// Serves many generations at once from one model: one loop on its own thread plans steps with the
/// <see cref="Scheduler"/> (continuous batching, chunked prefill, prefix reuse, preemption), runs each step's chunks
/// of all sequences through one batched forward over the paged K/V store, samples each sequence with its own
/// sampler, and streams tokens back through each request's channel. Cancelling a request ends its sequence at the
/// next step and frees its blocks.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly IBatchedLanguageModel _model;
    private readonly EngineOptions _options;
    private readonly Scheduler _scheduler;
    private readonly KvBlockTables _kv;
    private readonly PagedKvStore _store;
    // Whole sample groups: the loop takes a group in one step, so its samples are there when the first one's prompt is
    // computed and fork it (one sequence at a time, the loop could compute a short prompt before its samples arrived).
    private readonly ConcurrentQueue<EngineSequence[]> _incoming = new();
    private readonly ConcurrentQueue<long> _cancels = new();
    private readonly Dictionary<long, EngineSequence> _states = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _thread;
    private readonly ILogger _logger;
    private readonly SpeculationOptions? _speculation;
    private readonly Dictionary<long, int> _drafts = [];
    private readonly List<(int Token, bool Stop)> _verified = [];
    private long _nextId;
    private volatile bool _stopping;

    /// <param name="logger">Failed steps (Error) and each sequence's end (Debug); none by default.</param>
    public InferenceEngine(ILanguageModel model, Tokenizer tokenizer, EngineOptions? options = null, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        ArgumentNullException.ThrowIfNull(model);
        _model = model as IBatchedLanguageModel
            ?? throw new ArgumentException($"{model.GetType().Name} cannot run batched steps over a paged KV cache", nameof(model));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _options = options ?? new EngineOptions();
        _options.Validate();
        _options.Speculation.Validate(model.Config);
        // KIVI keys are quantized per block as it fills: positions of rejected drafts could not be taken back.
        _speculation = _options.Speculation.Enabled && !KvElementTypes.IsKivi(_options.KvCacheTypes.Keys) && !KvElementTypes.IsKivi(_options.KvCacheTypes.Values)
            ? _options.Speculation : null;
        ContextLength = Math.Min(_options.ContextLength ?? model.Config.ContextLength, model.Config.ContextLength);
        // With a budget for every request, a sequence never holds more than the budget and one block.
        int perSequence = _options.KvRetention.Budget is int budget ? Math.Min(ContextLength, budget + _options.BlockSize) : ContextLength;
        int blocksPerContext = (perSequence + _options.BlockSize - 1) / _options.BlockSize;
        int blocks = _options.KvBlocks ?? blocksPerContext * _options.MaxRunningSequences;
        _kv = new KvBlockTables(new KvBlockPool(blocks, _options.BlockSize));
        // KIVI: one f16 residual slot per running sequence (each fills at most one block at a time).
        _store = _model.CreatePagedStore(blocks, _options.BlockSize, _options.KvCacheTypes, residualSlots: _options.MaxRunningSequences);
        _scheduler = new Scheduler(_kv, new SchedulerOptions
        {
            MaxTokensPerStep = _options.MaxTokensPerStep,
            MaxRunningSequences = _options.MaxRunningSequences,
            MaxPrefillChunk = _options.MaxTokensPerStep,
        }, (table, count, scores) => _store.KeySimilarityToMean(table, count, scores));
        Metrics.KvBlocksFree = blocks;
        _thread = new Thread(Loop) { IsBackground = true, Name = "Frugal engine loop" };
        _thread.Start();
    }

    public Tokenizer Tokenizer { get; }

    public ModelConfig ModelConfig => _model.Config;

    /// <summary>Positions one sequence may reach: prompt plus generated tokens.</summary>
    public int ContextLength { get; }

    public EngineOptions Options => _options;

    public EngineMetrics Metrics { get; } = new();

    /// <summary>Tokens per KV block: the unit of prefix caching.</summary>
    public int KvBlockSize => _kv.BlockSize;

    /// <summary>Blocks in the KV pool.</summary>
    public int KvBlocksTotal => _kv.Pool.TotalBlocks;

    /// <summary>The block hashes of the prefix cache and their changes (a cluster router's summary of this engine).</summary>
    public KvPrefixCacheJournal PrefixCache => _kv.Pool.Journal;

    /// <summary>Bytes of K/V memory the engine holds (its whole budget, allocated up front, in its element types).</summary>
    public long KvBytes => _store.Bytes;

    /// <summary>Element types of the K and V the engine stores.</summary>
    public KvCacheTypes KvCacheTypes => _store.Types;

    /// <summary>Bytes of K and V of one token over all layers (llama.cpp's figure for the same types).</summary>
    public long KvBytesPerToken => _store.BytesPerPosition;

    /// <summary>
    /// Queues a generation and returns its stream. Cancelling <paramref name="cancellationToken"/> ends it at the
    /// next step.
    /// </summary>
    /// <exception cref="ArgumentException">the prompt is empty, holds an unknown token, or prompt + max tokens exceed the context or the KV pool.</exception>
    /// <exception cref="EngineOverloadedException">the queue is full.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> is cancelled already.</exception>
    public EngineStream Submit(EngineRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Submit([request], cancellationToken)[0]; // a group of one: one way in, so every sequence is built alike
    }

    /// <summary>
    /// Queues n samples of one prompt (all or none) and returns their streams. Their prompt is computed once: the
    /// first request prefills it and the others fork its KV blocks in the step its last prompt token is computed
    /// (blocks shared by reference count, the partly filled last block copied on its first write, as PagedAttention's
    /// parallel sampling does), each then sampling with its own sampler. Requests may differ in anything but the prompt.
    /// </summary>
    /// <exception cref="ArgumentException">the group is empty, its prompts differ, or a request is invalid (as <see cref="Submit(EngineRequest, CancellationToken)"/>).</exception>
    /// <exception cref="EngineOverloadedException">the queue has no room for the whole group.</exception>
    public IReadOnlyList<EngineStream> Submit(IReadOnlyList<EngineRequest> samples, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("a sample group needs at least one request", nameof(samples));
        ObjectDisposedException.ThrowIf(_stopping, this);
        cancellationToken.ThrowIfCancellationRequested();
        var prompt = samples[0].PromptTokens;
        var limits = new (int MaxTokens, KvRetention Retention)[samples.Count];
        for (int i = 0; i < samples.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(samples[i], nameof(samples));
            if (i > 0 && !ReferenceEquals(samples[i].PromptTokens, prompt) && !(samples[i].PromptTokens ?? []).SequenceEqual(prompt ?? []))
                throw new ArgumentException($"sample {i} of the group has another prompt than sample 0: a group shares one prompt", nameof(samples));
            limits[i] = Validated(samples[i]);
        }
        int entered = 0;
        for (; entered < samples.Count; entered++)
        {
            if (Metrics.EnterQueue() > _options.MaxQueuedRequests)
            {
                for (int j = 0; j <= entered; j++) Metrics.LeaveQueue();
                Metrics.Rejected();
                throw new EngineOverloadedException(Metrics.QueueDepth);
            }
        }
        var streams = new EngineStream[samples.Count];
        var group = new EngineSequence[samples.Count];
        long parent = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            var seq = new EngineSequence(Interlocked.Increment(ref _nextId), samples[i], limits[i].MaxTokens, limits[i].Retention, Tokenizer,
                _model.Config.VocabSize, ContextLength, _speculation) { ForkOf = i == 0 ? null : parent };
            if (i == 0) parent = seq.Id;
            Metrics.Request(samples[i].PromptTokens.Count);
            group[i] = seq;
            streams[i] = new EngineStream(this, seq.Id, seq.Events.Reader, cancellationToken);
        }
        _incoming.Enqueue(group);
        _wake.Release();
        return streams;
    }

    /// <summary>Ends a sequence at the next step (no-op when it already finished).</summary>
    /// <summary>
    /// The pooled, L2-normalized embedding of <paramref name="tokens"/>: one forward over them (on the engine's loop
    /// thread, between steps, with K/V of its own that is dropped afterwards) to the final norm, then
    /// <paramref name="pooling"/>.
    /// </summary>
    /// <exception cref="ContextLengthExceededException">more tokens than the context holds.</exception>
    /// <exception cref="ArgumentException">no tokens, or an id outside the vocabulary.</exception>
    public Task<float[]> EmbedAsync(IReadOnlyList<int> tokens, Embeddings.EmbeddingPooling pooling, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (tokens.Count == 0) throw new ArgumentException("an embedding needs at least one token", nameof(tokens));
        if (tokens.Count > ContextLength) throw new ContextLengthExceededException(tokens.Count, ContextLength);
        foreach (int t in tokens)
            if ((uint)t >= (uint)_model.Config.VocabSize)
                throw new ArgumentException($"token id {t} is outside the vocabulary [0, {_model.Config.VocabSize})", nameof(tokens));
        var job = new EmbeddingJob(tokens.ToArray(), pooling, cancellationToken);
        _embeddings.Enqueue(job);
        _wake.Release();
        return job.Result.Task;
    }

    private sealed record EmbeddingJob(int[] Tokens, Embeddings.EmbeddingPooling Pooling, CancellationToken Cancelled)
    {
        public TaskCompletionSource<float[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly ConcurrentQueue<EmbeddingJob> _embeddings = new();

    /// <summary>Runs the waiting embedding jobs; loop thread only.</summary>
    private void RunEmbeddings()
    {
        while (_embeddings.TryDequeue(out var job))
        {
            if (job.Cancelled.IsCancellationRequested)
            {
                job.Result.TrySetCanceled(job.Cancelled);
                continue;
            }
            try
            {
                int n = job.Tokens.Length, dim = _model.Config.EmbeddingLength, blockSize = _options.BlockSize;
                int blocks = (n + blockSize - 1) / blockSize;
                var store = _model.CreatePagedStore(blocks, blockSize);
                var hidden = new float[n * dim]; // [tokens, dim]
                _model.ForwardHidden(new BatchSequence(job.Tokens, 0, Enumerable.Range(0, blocks).ToArray(), WantLogits: false), store, hidden);
                job.Result.TrySetResult(Embeddings.EmbeddingPoolings.Pool(hidden, n, dim, job.Pooling));
            }
            catch (Exception e)
            {
                job.Result.TrySetException(e);
            }
        }
    }

    public void Cancel(long sequenceId)
    {
        _cancels.Enqueue(sequenceId);
        if (!_stopping) _wake.Release();
    }

    private (int MaxTokens, KvRetention Retention) Validated(EngineRequest request)
    {
        var prompt = request.PromptTokens ?? throw new ArgumentException("the request has no prompt tokens", nameof(request));
        if (prompt.Count == 0) throw new ArgumentException("the prompt has no tokens: nothing to continue from", nameof(request));
        for (int i = 0; i < prompt.Count; i++)
            if ((uint)prompt[i] >= (uint)_model.Config.VocabSize)
                throw new ArgumentException($"prompt token #{i} is id {prompt[i]}, outside the vocabulary [0, {_model.Config.VocabSize})", nameof(request));
        foreach (int t in request.Sampling.LogitBias.Keys)
            if ((uint)t >= (uint)_model.Config.VocabSize)
                throw new ArgumentException($"logit bias names token {t}, outside the vocabulary [0, {_model.Config.VocabSize})", nameof(request));
        var options = request.KvRetention ?? _options.KvRetention;
        var retention = new KvRetention(options, ContextLength, _options.BlockSize, prompt[0] == Tokenizer.BosId);
        if (request.MaxTokens is < 1)
            throw new ArgumentException($"max tokens must be at least 1, got {request.MaxTokens}", nameof(request));
        if (request.TopLogprobs is < 0 or > 20)
            throw new ArgumentException($"top logprobs must be within [0, 20], got {request.TopLogprobs}", nameof(request));
        int max;
        if (options.Unbounded)
        {
            // A shift or an eviction makes room: the generation may outlive the context. Only a budget lets the prompt
            // itself pass it (its positions are renumbered as it is evicted).
            if (options.Budget is null && prompt.Count >= ContextLength)
                throw new ContextLengthExceededException(prompt.Count, ContextLength);
            max = request.MaxTokens ?? int.MaxValue;
        }
        else
        {
            int room = ContextLength - prompt.Count;
            if (room < 1)
                throw new ContextLengthExceededException(prompt.Count, ContextLength);
            if (request.MaxTokens > room)
                throw new ArgumentException($"{prompt.Count} prompt tokens + {request.MaxTokens} new tokens exceed the context of {ContextLength}", nameof(request));
            max = request.MaxTokens ?? room;
        }
        long held = Math.Min((long)prompt.Count + max, retention.Limit);
        if (_kv.BlocksFor((int)held) > _kv.Pool.TotalBlocks)
            throw new ArgumentException($"{prompt.Count} prompt tokens + {max} new tokens need more KV blocks than the pool's {_kv.Pool.TotalBlocks}", nameof(request));
        return (max, retention);
    }

    private void Loop()
    {
        var batch = new List<BatchSequence>();
        var sampled = new List<SampledToken>();
        float[] logits = [];
        while (!_stopping)
        {
            StepPlan? plan = null;
            try
            {
                Drain();
                RunEmbeddings();
                if (!_scheduler.HasWork)
                {
                    _wake.Wait();
                    continue;
                }
                long stepStart = Stopwatch.GetTimestamp();
                plan = _scheduler.Plan(Drafts());
                // In plan order: a compaction's freed blocks may be a later operation's copy destination.
                foreach (var compaction in plan.Compactions)
                {
                    foreach (var copy in compaction.Copies) _store.CopyBlock(copy.Source, copy.Destination);
                    _model.CompactKv(_store, compaction.BlockTable, compaction.HeldBefore, compaction.KeptSlots);
                    Metrics.KvCompacted();
                }
                foreach (var copy in plan.BlockCopies)
                    _store.CopyBlock(copy.Source, copy.Destination);
                if (plan.IsEmpty)
                {
                    _scheduler.Update(plan, []);
                    _wake.Wait(10);
                    continue;
                }

                batch.Clear();
                int wanted = 0;
                foreach (var chunk in plan.Chunks)
                {
                    var seq = _scheduler.Find(chunk.SequenceId)!;
                    var state = _states[chunk.SequenceId];
                    if (!state.Admitted)
                    {
                        state.Admitted = true;
                        state.CachedPromptTokens = seq.CachedPrefixTokens;
                        Metrics.LeaveQueue();
                    }
                    if (chunk.Drafted > 0)
                    {
                        // The last token and the draft behind it, with the logits of every position to verify.
                        int[] verify = [seq.TokenSpan[chunk.Start], .. state.Draft.Tokens.AsSpan(0, chunk.Drafted)];
                        batch.Add(new BatchSequence(verify, chunk.Start, _kv.BlockTable(chunk.SequenceId), true, AllLogits: true));
                        wanted += verify.Length;
                        continue;
                    }
                    int[] tokens = seq.TokenSpan.Slice(chunk.Start, chunk.Count).ToArray();
                    batch.Add(new BatchSequence(tokens, chunk.Start, _kv.BlockTable(chunk.SequenceId), chunk.SamplesNext));
                    if (chunk.SamplesNext) wanted++;
                }
                int vocab = _model.Config.VocabSize;
                if (logits.Length < wanted * vocab) logits = new float[wanted * vocab]; // [wanted, vocab]
                _model.ForwardBatch(batch, _store, logits);

                sampled.Clear();
                int row = 0;
                foreach (var chunk in plan.Chunks)
                {
                    if (!chunk.SamplesNext) continue;
                    if (chunk.Drafted > 0)
                    {
                        _verified.Clear();
                        _states[chunk.SequenceId].SampleDrafted(logits.AsSpan(row * vocab, (chunk.Drafted + 1) * vocab), chunk.Drafted, Metrics, _verified);
                        row += chunk.Drafted + 1;
                        foreach (var (t, s) in _verified) sampled.Add(new SampledToken(chunk.SequenceId, t, s));
                        continue;
                    }
                    var rowLogits = logits.AsSpan(row++ * vocab, vocab);
                    // Forked samples draw their first token from the parent's row, each with its own sampler.
                    foreach (var fork in plan.Forks)
                    {
                        if (fork.Parent != chunk.SequenceId) continue;
                        foreach (long child in fork.Children)
                        {
                            if (!_states.TryGetValue(child, out var forked)) continue;
                            forked.Admitted = true;
                            forked.CachedPromptTokens = forked.Request.PromptTokens.Count;
                            Metrics.LeaveQueue();
                            Metrics.Forked();
                            var (t, s) = forked.Sample(rowLogits, Metrics);
                            sampled.Add(new SampledToken(child, t, s));
                        }
                    }
                    var (token, stop) = _states[chunk.SequenceId].Sample(rowLogits, Metrics);
                    sampled.Add(new SampledToken(chunk.SequenceId, token, stop));
                }
                if (_speculation is not null && plan.Chunks.Count <= _speculation.CrowdedStep)
                    Observe(plan, sampled, Stopwatch.GetElapsedTime(stepStart).TotalSeconds);
                var outcome = _scheduler.Update(plan, sampled);
                plan = null;
                Metrics.Step();
                foreach (var (id, reason) in outcome.Finished)
                    End(id, reason == FinishReason.Length ? EngineFinishReason.Length : EngineFinishReason.Stop);
            }
            catch (Exception error)
            {
                // A failed step fails every sequence it touched; the engine keeps serving new requests.
                _logger.LogError(error, "engine step failed; {Sequences} sequences end with the error", _states.Count);
                foreach (var state in _states.Values.ToList())
                {
                    _scheduler.Cancel(state.Id);
                    if (!state.Admitted) Metrics.LeaveQueue();
                    state.Fail(error);
                    _states.Remove(state.Id);
                }
                if (plan is not null) _scheduler.Update(plan, []);
            }
            finally
            {
                PublishGauges();
            }
        }
    }

    /// <summary>
    /// This step's drafts (speculative decoding): each decoding sequence with a speculator asks it for a draft, given
    /// how many other sequences share the step (running ones, and one more when some wait to be admitted).
    /// </summary>
    private Dictionary<long, int>? Drafts()
    {
        if (_speculation is null) return null;
        _drafts.Clear();
        int others = _scheduler.RunningCount - 1 + (_scheduler.WaitingCount > 0 ? 1 : 0);
        foreach (var state in _states.Values)
        {
            state.Draft = Speculation.Draft.None;
            if (state.Speculator is null || _scheduler.Find(state.Id) is not { Status: SequenceStatus.Running } seq) continue;
            if (seq.TotalTokens - seq.ComputedTokens != 1 || seq.GeneratedTokens == 0) continue;
            int room = Math.Min(Math.Min(seq.MaxNewTokens - seq.GeneratedTokens - 1, seq.Limit - seq.ComputedTokens - 1), _speculation.DraftMax);
            var draft = state.Speculator.Propose(seq.TokenSpan, others, room);
            if (draft.Length == 0) continue;
            state.Draft = draft;
            _drafts[state.Id] = draft.Length;
        }
        return _drafts;
    }

    /// <summary>Tells each decoding sequence's speculator what its step cost and produced (the clock side of its controller).</summary>
    private void Observe(StepPlan plan, List<SampledToken> sampled, double seconds)
    {
        foreach (var chunk in plan.Chunks)
        {
            if (!chunk.IsDecode || _states.GetValueOrDefault(chunk.SequenceId)?.Speculator is not { } speculator) continue;
            int produced = 0;
            foreach (var s in sampled) if (s.SequenceId == chunk.SequenceId) produced++;
            speculator.ObserveStep(chunk.Drafted, produced, seconds);
        }
    }

    /// <summary>Takes in new requests and cancellations; runs on the loop thread only.</summary>
    private void Drain()
    {
        while (_incoming.TryDequeue(out var group))
        {
            foreach (var seq in group)
            {
                _states[seq.Id] = seq;
                _scheduler.Add(seq.Id, seq.Request.PromptTokens.ToArray(), seq.MaxTokens, seq.Retention, seq.ForkOf);
            }
        }
        while (_cancels.TryDequeue(out long id))
        {
            if (!_states.TryGetValue(id, out var state)) continue;
            _scheduler.Cancel(id);
            if (!state.Admitted) Metrics.LeaveQueue();
            End(id, EngineFinishReason.Cancelled);
        }
    }

    private void End(long id, EngineFinishReason reason)
    {
        if (!_states.Remove(id, out var state)) return;
        state.Finish(reason);
        if (_logger.IsEnabled(LogLevel.Debug))
            _logger.LogDebug("sequence {Sequence} ended ({Reason}): {PromptTokens} prompt tokens ({CachedTokens} from the prefix cache), {Generated} generated",
                id, reason, state.Request.PromptTokens.Count, state.CachedPromptTokens, state.Generated);
        Metrics.Completion(state.Generated);
    }

    private void PublishGauges()
    {
        Metrics.RunningSequences = _scheduler.RunningCount;
        Metrics.KvBlocksUsed = _kv.Pool.UsedBlocks;
        Metrics.KvBlocksFree = _kv.Pool.FreeBlocks;
        Metrics.PrefixCacheHits = _kv.PrefixHits;
        Metrics.PrefixCacheHitTokens = _kv.PrefixHitTokens;
        Metrics.Preemptions = _scheduler.TotalPreemptions;
        foreach (var id in _states.Keys)
            if (_kv.Contains(id))
                Metrics.KvBlocksPerSequencePeak = Math.Max(Metrics.KvBlocksPerSequencePeak, _kv.BlockTable(id).Count);
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _wake.Release();
        _thread.Join();
        var gone = new ObjectDisposedException(nameof(InferenceEngine), "the engine was shut down");
        foreach (var state in _states.Values) state.Fail(gone);
        while (_embeddings.TryDequeue(out var job)) job.Result.TrySetException(gone);
        _states.Clear();
        while (_incoming.TryDequeue(out var group))
            foreach (var seq in group) seq.Fail(gone);
    }
}
