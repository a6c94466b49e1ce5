namespace Frugal.Inference.Voting;

/// <summary>An answer and how many samples gave it.</summary>
public readonly record struct AnswerCount(string Answer, int Count);

/// <summary>
/// The outcome of a vote over samples: the chosen answer (null when no sample gave one), every answer with its
/// count (most votes first), the leader's share of all samples (abstentions count against it) and the entropy of
/// the answer distribution in bits (abstentions as one more outcome): the agreement signals that allocation and
/// early stopping read.
/// </summary>
public sealed record VoteResult(string? Answer, IReadOnlyList<AnswerCount> Counts, int Samples, int Abstained)
{
    /// <summary>Votes of the leading answer.</summary>
    public int LeaderCount => Counts.Count == 0 ? 0 : Counts[0].Count;

    public double LeaderShare => Samples == 0 ? 0 : (double)LeaderCount / Samples;

    public double EntropyBits
    {
        get
        {
            double h = 0;
            foreach (int c in Counts.Select(a => a.Count).Append(Abstained))
            {
                if (c == 0) continue;
                double p = (double)c / Samples;
                h -= p * Math.Log2(p);
            }
            return h;
        }
    }
}

/// <summary>
/// Majority vote (self-consistency; Large Language Monkeys' "majority voting") and best-of-n by mean token
/// log-probability over a prompt's samples.
/// </summary>
public static class AnswerVote
{
    /// <summary>
    /// The answer most samples gave; a tie goes to the answer whose samples have the higher best mean
    /// log-probability, then to the ordinal-first answer, so the same samples always give the same vote.
    /// </summary>
    public static VoteResult Majority(IReadOnlyList<SampleAnswer> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var groups = samples.Where(s => s.Answer is not null)
            .GroupBy(s => s.Answer!, StringComparer.Ordinal)
            .Select(g => (Answer: g.Key, Count: g.Count(), Best: g.Max(s => s.MeanLogprob)))
            .OrderByDescending(g => g.Count).ThenByDescending(g => g.Best).ThenBy(g => g.Answer, StringComparer.Ordinal)
            .ToList();
        int abstained = samples.Count(s => s.Answer is null);
        return new VoteResult(groups.Count == 0 ? null : groups[0].Answer, groups.Select(g => new AnswerCount(g.Answer, g.Count)).ToList(), samples.Count, abstained);
    }

    /// <summary>The answer of the sample with the highest mean log-probability (samples without an answer are skipped).</summary>
    public static string? BestOfN(IReadOnlyList<SampleAnswer> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        string? best = null;
        double score = double.NegativeInfinity;
        foreach (var s in samples)
        {
            if (s.Answer is null || !(s.MeanLogprob > score)) continue;
            best = s.Answer;
            score = s.MeanLogprob;
        }
        return best;
    }
}
