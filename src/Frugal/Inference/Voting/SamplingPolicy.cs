namespace Frugal.Inference.Voting;

/// <summary>
/// Decides how many samples a prompt gets, one round at a time: given the samples so far (in the order drawn),
/// how many more to draw now; 0 ends the prompt. Rounds let every prompt of a batch sample together.
/// </summary>
public abstract record SamplingPolicy
{
    public abstract int Next(IReadOnlyList<SampleAnswer> drawn);

    /// <summary>The most samples the policy ever draws for one prompt.</summary>
    public abstract int MaxSamples { get; }

    public abstract string Name { get; }
}

/// <summary>The same <paramref name="Samples"/> for every prompt (vote@k).</summary>
public sealed record UniformPolicy(int Samples) : SamplingPolicy
{
    public override int Next(IReadOnlyList<SampleAnswer> drawn) => Math.Max(0, Samples - drawn.Count);

    public override int MaxSamples => Samples;

    public override string Name => "uniform";
}

/// <summary>
/// OSCA-style allocation (Zhang et al. 2025, "Scaling LLM Inference with Optimized Sample Compute Allocation"): a
/// first round of <see cref="AllocationMapping.Probe"/> samples estimates the prompt's difficulty by how many of them
/// agree with their leader, and the learnt mapping gives the prompt that many extra samples. Prompts whose probes
/// agree get none; contested ones get more, at the same mean budget.
/// </summary>
public sealed record AllocatedPolicy(AllocationMapping Mapping) : SamplingPolicy
{
    public override int Next(IReadOnlyList<SampleAnswer> drawn)
    {
        int probe = Mapping.Probe;
        if (drawn.Count < probe) return probe - drawn.Count;
        if (drawn.Count > probe) return 0;
        return Mapping.Extra(AnswerVote.Majority(drawn).LeaderCount);
    }

    public override int MaxSamples => Mapping.Probe + Mapping.ExtraByAgreement.Max();

    public override string Name => "allocated";
}

/// <summary>
/// Allocation with an early stop (Certaindex-style, after Dynasor, Fu et al. 2024: stop spending on a query once its
/// answers are consistent): samples are drawn one at a time; a prompt stops as soon as <see cref="Stop"/> holds,
/// and otherwise at the cap its probes' agreement gives it under <see cref="Mapping"/>.
/// </summary>
public sealed record AllocatedEarlyStopPolicy(AllocationMapping Mapping, EarlyStopRule Stop) : SamplingPolicy
{
    public override int Next(IReadOnlyList<SampleAnswer> drawn)
    {
        int probe = Mapping.Probe;
        int probeLeader = drawn.Count < probe ? 0 : AnswerVote.Majority(drawn.Take(probe).ToList()).LeaderCount;
        return Ends(drawn.Count, Stop.IsCertain(drawn), probeLeader) ? 0 : 1;
    }

    /// <summary>
    /// Whether a prompt ends after <paramref name="drawn"/> samples: the stop rule is <paramref name="certain"/>, or the
    /// probes are all drawn and the cap their leader's <paramref name="probeLeaderVotes"/> give is reached
    /// (<see cref="PoolPrefixes"/> decides with it too).
    /// </summary>
    public bool Ends(int drawn, bool certain, int probeLeaderVotes) =>
        certain || (drawn >= Mapping.Probe && drawn >= Mapping.Probe + Mapping.Extra(probeLeaderVotes));

    public override int MaxSamples => Mapping.Probe + Mapping.ExtraByAgreement.Max();

    public override string Name => "allocated-early-stop";
}

/// <summary>
/// When the answers so far are certain enough to stop: the leading answer has at least <see cref="MinVotes"/> votes
/// and at least <see cref="MinShare"/> of all samples (abstentions count against it); or it is ahead of the runner-up
/// by at least <see cref="MinLead"/> votes (a margin rule, as a sequential test would stop: 2 says two agreeing samples
/// end a prompt, while 2 against 1 draws on; off at int.MaxValue); or every sample so far gave
/// the same answer and one of them is sure of itself: a mean token log-probability of at least
/// <see cref="MinLogprob"/>, or a least likely token of at least <see cref="MinWeakestLogprob"/> (the model's own
/// certainty, which can end a prompt after one sample; each off at +infinity).
/// </summary>
public sealed record EarlyStopRule(int MinVotes, double MinShare, double MinLogprob = double.PositiveInfinity, double MinWeakestLogprob = double.PositiveInfinity,
    int MinLead = int.MaxValue)
{
    public bool IsCertain(IReadOnlyList<SampleAnswer> drawn)
    {
        ArgumentNullException.ThrowIfNull(drawn);
        if (drawn.Count == 0) return false;
        double mean = double.NegativeInfinity, weakest = double.NegativeInfinity;
        foreach (var s in drawn)
        {
            // NaN (a sample whose weakest token is unknown) never raises the best, so it never clears a threshold.
            if (s.MeanLogprob > mean) mean = s.MeanLogprob;
            if (s.WeakestLogprob > weakest) weakest = s.WeakestLogprob;
        }
        return IsCertain(AnswerVote.Majority(drawn), mean, weakest);
    }

    /// <summary>The same decision from the vote over the samples and their highest mean and least-likely-token log-probabilities.</summary>
    public bool IsCertain(VoteResult vote, double bestMeanLogprob, double bestWeakestLogprob)
    {
        ArgumentNullException.ThrowIfNull(vote);
        if (vote.Samples == 0 || vote.Answer is null) return false;
        if (vote.LeaderCount >= MinVotes && vote.LeaderShare >= MinShare) return true;
        if (vote.LeaderCount - (vote.Counts.Count > 1 ? vote.Counts[1].Count : 0) >= MinLead) return true;
        if (vote.LeaderCount != vote.Samples) return false;
        return bestMeanLogprob >= MinLogprob || bestWeakestLogprob >= MinWeakestLogprob;
    }

    public override string ToString() =>
        (MinLead == int.MaxValue ? $"leader >= {MinVotes} votes and >= {MinShare:P0}"
            : MinVotes == int.MaxValue ? $"leader ahead by >= {MinLead} votes" : $"leader >= {MinVotes} votes and >= {MinShare:P0}, or ahead by >= {MinLead} votes")
        + (double.IsPositiveInfinity(MinLogprob) ? "" : $", or unanimous with a sample's mean logprob >= {MinLogprob:F3}")
        + (double.IsPositiveInfinity(MinWeakestLogprob) ? "" : $", or unanimous with a sample whose least likely token has logprob >= {MinWeakestLogprob:F3}");
}
