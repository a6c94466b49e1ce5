using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Inference.Voting;

namespace Frugal.Evaluation;

/// <summary>Which split items come from: the held-out one (results) or the development one (choosing recipes).</summary>
public enum TaskSplit
{
    HeldOut,
    Development,
}

/// <summary>A voting recipe chosen on the development split: the allocation mapping and the early-stop rule.</summary>
/// <param name="Mapping">the allocated policy's mapping.</param>
/// <param name="StopMapping">the early-stop policy's mapping (its probe count may differ: stopping pays only before the probes are all drawn).</param>
public sealed record VotingRecipe(double Budget, AllocationMapping Mapping, AllocationMapping StopMapping, EarlyStopRule Stop, double DevAllocatedAccuracy, double DevEarlyStopAccuracy);

/// <summary>
/// Repeated sampling on a task family with the engine: items of a split, an <see cref="EngineSampleSource"/> that
/// samples them (each sample's seed fixed by its index, so pools replay exactly what policies draw live), pools of
/// samples per item, and recipes (allocation mapping, early-stop rule) fitted on development pools.
/// </summary>
public sealed class VotingExperiment(InferenceEngine engine, EvalTask task, SamplingOptions sampling, ulong seed)
{
    public EvalTask Task => task;

    public IReadOnlyList<EvalItem> Items(TaskSplit split, int count, ulong itemSeed = HeldOutSets.DefaultSeed)
    {
        Func<EvalItem, bool>? accept = task == EvalTask.Recall
            ? RecallDistance.Filter(t => engine.Tokenizer.Encode(t, addSpecial: false, parseSpecial: false).Length, engine.ContextLength)
            : null;
        return split == TaskSplit.HeldOut ? HeldOutSets.Items(task, count, itemSeed, accept) : HeldOutSets.DevelopmentItems(task, count, itemSeed, accept);
    }

    /// <summary>A source of samples of <paramref name="items"/>, with the experiment's sampling or <paramref name="samplingOverride"/> (greedy: the greedy answer).</summary>
    public EngineSampleSource Source(IReadOnlyList<EvalItem> items, SamplingOptions? samplingOverride = null)
    {
        var prompts = items.Select(i => engine.Tokenizer.Encode(i.Prompt, addSpecial: true, parseSpecial: false)).ToList();
        return new EngineSampleSource(engine, prompts, p => MaxTokens(items[p]), samplingOverride ?? sampling,
            (text, stopped) => TaskAnswers.Extract(task, text, stopped), seed);
    }

    /// <summary>Tokens a sample may generate: the answer's own tokens, its terminator and end-of-generation, and a few more (as <see cref="GreedyTaskEvaluator"/>).</summary>
    public int MaxTokens(EvalItem item) =>
        engine.Tokenizer.Encode(item.AnswerText, addSpecial: false, parseSpecial: false).Length + 1 + GreedyTaskEvaluator.ExtraTokens;

    /// <summary>The first <paramref name="samples"/> samples of every item.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<SampleAnswer>>> PoolsAsync(IReadOnlyList<EvalItem> items, int samples, int maxConcurrentPrompts = 16,
        CancellationToken cancellationToken = default)
    {
        var solved = await RepeatedSampling.RunAsync(items.Count, new UniformPolicy(samples), Source(items).Source, maxConcurrentPrompts, cancellationToken).ConfigureAwait(false);
        return solved.Select(s => s.Samples).ToList();
    }

    /// <summary>
    /// Fits the allocation mapping at a mean <paramref name="budget"/> of samples per item (the probe count 2-4 and the
    /// extras per agreement level, whichever answers most development items; ties go to fewer probes), then the early-stop
    /// recipe: over the caps of those mappings and flat caps (<see cref="FlatCaps"/>, up to the pool size), and the stop rules (votes and share, or a lead over the runner-up; and a confidence threshold on the
    /// mean or on the weakest token's log-probability from <see cref="ConfidenceThresholds"/>), the cheapest (fewest tokens) whose development accuracy is within
    /// <paramref name="stopSlack"/> (default one point) of allocation's.
    /// </summary>
    public static VotingRecipe FitRecipe(IReadOnlyList<EvalItem> devItems, IReadOnlyList<IReadOnlyList<SampleAnswer>> devPools, double budget, double stopSlack = 0.01)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stopSlack);
        int poolSize = devPools.Min(p => p.Count);
        var fits = new List<(AllocationMapping Mapping, int Correct)>();
        foreach (int probe in new[] { 2, 3, 4 })
            if (probe <= budget && probe < poolSize)
                fits.Add(AllocationMapping.Fit(devPools, (i, a) => TaskAnswers.IsCorrect(devItems[i], a), probe, budget, poolSize - probe));
        if (fits.Count == 0) throw new ArgumentException($"a budget of {budget} samples cannot cover a probe of 2 within pools of {poolSize}", nameof(budget));
        var mapping = fits.OrderByDescending(f => f.Correct).First().Mapping;
        double allocated = Accuracy(devItems, devPools, new AllocatedPolicy(mapping)).Accuracy;
        (AllocationMapping Mapping, EarlyStopRule Rule, double Accuracy, long Tokens)? stop = null;
        // A confidence stop reads one signal: the sample's mean log-probability or its least likely token's.
        var confidences = ConfidenceThresholds(devPools, s => s.MeanLogprob).Select(t => (Mean: t, Weakest: double.PositiveInfinity))
            .Concat(ConfidenceThresholds(devPools, s => s.WeakestLogprob).Skip(1).Select(t => (Mean: double.PositiveInfinity, Weakest: t)))
            .ToList();
        // Vote rules: a count and share the leader must hold, or a margin over the runner-up alone.
        var voteRules = (from votes in new[] { 2, 3, 4, 5 } from share in new[] { 0.5, 0.67, 0.75, 1.0 } select (Votes: votes, Share: share, Lead: int.MaxValue))
            .Concat(new[] { 2, 3 }.Select(lead => (Votes: int.MaxValue, Share: 1.0, Lead: lead)))
            .ToList();
        // Caps: the fitted mappings' (a prompt's probes set how far it may go), and flat caps that only the stop rule
        // shortens (a sequential test: every prompt draws until its answers agree or the cap is reached).
        var caps = fits.Select(f => f.Mapping)
            .Concat(FlatCaps.Where(cap => cap <= poolSize && cap > 2).Select(cap => new AllocationMapping(2, [cap - 2, cap - 2, cap - 2])))
            .ToList();
        var prefixes = new PoolPrefixes(devPools);
        foreach (var capMapping in caps)
        foreach (var vr in voteRules)
        foreach (var confidence in confidences)
        {
            var rule = new EarlyStopRule(vr.Votes, vr.Share, confidence.Mean, confidence.Weakest, vr.Lead);
            var (right, tokens) = prefixes.EarlyStop(capMapping, rule, (i, a) => TaskAnswers.IsCorrect(devItems[i], a));
            double acc = (double)right / devItems.Count;
            if (acc + stopSlack + 1e-12 >= allocated && (stop is null || tokens < stop.Value.Tokens))
                stop = (capMapping, rule, acc, tokens);
        }
        // The allocated recipe itself always qualifies with a rule that never fires.
        var s = stop ?? (mapping, new EarlyStopRule(int.MaxValue, 1.0), allocated, 0);
        return new VotingRecipe(budget, mapping, s.Mapping, s.Rule, allocated, s.Accuracy);
    }

    /// <summary>Flat caps (most samples per prompt) the early-stop fit tries beside the fitted mappings' caps.</summary>
    public static readonly IReadOnlyList<int> FlatCaps = [6, 8, 10, 12, 16];

    /// <summary>
    /// The confidence thresholds early stopping tries on one <paramref name="signal"/> (a sample's mean or weakest-token
    /// log-probability): off (+infinity), and the 5% quantiles of the first samples' signal over the development pools (so a
    /// threshold stops after one sample on 5%, 10%, ... 95% of them; deciles were too coarse a step for a rule whose cost
    /// is mostly how many prompts end after one sample).
    /// </summary>
    public static IReadOnlyList<double> ConfidenceThresholds(IReadOnlyList<IReadOnlyList<SampleAnswer>> devPools, Func<SampleAnswer, double> signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        var first = devPools.Where(p => p.Count > 0 && p[0].Answer is not null).Select(p => signal(p[0])).Where(double.IsFinite).Order().ToArray();
        var thresholds = new List<double> { double.PositiveInfinity };
        if (first.Length == 0) return thresholds;
        for (int q = 19; q >= 1; q--) thresholds.Add(first[Math.Min(first.Length - 1, first.Length * q / 20)]);
        return thresholds.Distinct().ToList();
    }

    /// <summary>Accuracy and generated tokens of a policy replayed over stored pools.</summary>
    public static (double Accuracy, long Tokens) Accuracy(IReadOnlyList<EvalItem> items, IReadOnlyList<IReadOnlyList<SampleAnswer>> pools, SamplingPolicy policy)
    {
        var solved = RepeatedSampling.RunAsync(items.Count, policy, RepeatedSampling.Replay(pools), maxConcurrentPrompts: 1).GetAwaiter().GetResult();
        int correct = solved.Count(s => TaskAnswers.IsCorrect(items[s.Prompt], s.Vote.Answer));
        return ((double)correct / items.Count, solved.Sum(s => (long)s.Tokens));
    }
}
