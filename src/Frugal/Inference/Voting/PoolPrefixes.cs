namespace Frugal.Inference.Voting;

/// <summary>
/// Every prompt's vote after each count of its stored samples (1 .. its pool), with the tokens spent and the most
/// confident sample so far: all that <see cref="EarlyStopRule"/> and <see cref="AllocatedEarlyStopPolicy"/> read at a
/// step, computed once, so a fit can try thousands of recipes over the same pools without voting again.
/// <see cref="EarlyStop"/> ends every prompt where replaying the policy over the pools ends it.
/// </summary>
public sealed class PoolPrefixes
{
    private readonly VoteResult[][] _votes;      // [prompt][n - 1] the vote over the first n samples
    private readonly double[][] _bestMean;       // [prompt][n - 1] highest mean log-probability among them (-inf: none known)
    private readonly double[][] _bestWeakest;    // [prompt][n - 1] highest least-likely-token log-probability among them
    private readonly long[][] _tokens;           // [prompt][n - 1] tokens they generated

    public PoolPrefixes(IReadOnlyList<IReadOnlyList<SampleAnswer>> pools)
    {
        ArgumentNullException.ThrowIfNull(pools);
        int prompts = pools.Count;
        _votes = new VoteResult[prompts][];
        _bestMean = new double[prompts][];
        _bestWeakest = new double[prompts][];
        _tokens = new long[prompts][];
        for (int p = 0; p < prompts; p++)
        {
            var pool = pools[p];
            int count = pool.Count;
            (_votes[p], _bestMean[p], _bestWeakest[p], _tokens[p]) = (new VoteResult[count], new double[count], new double[count], new long[count]);
            double mean = double.NegativeInfinity, weakest = double.NegativeInfinity;
            long tokens = 0;
            for (int n = 1; n <= count; n++)
            {
                var s = pool[n - 1];
                if (s.MeanLogprob > mean) mean = s.MeanLogprob;          // NaN never raises the best
                if (s.WeakestLogprob > weakest) weakest = s.WeakestLogprob;
                tokens += s.Tokens;
                _votes[p][n - 1] = AnswerVote.Majority(pool.Take(n).ToList());
                _bestMean[p][n - 1] = mean;
                _bestWeakest[p][n - 1] = weakest;
                _tokens[p][n - 1] = tokens;
            }
        }
    }

    public int Prompts => _votes.Length;

    /// <summary>
    /// Replays <see cref="AllocatedEarlyStopPolicy"/>(<paramref name="mapping"/>, <paramref name="stop"/>) over the pools:
    /// how many prompts end with an answer <paramref name="isCorrect"/> accepts, and the tokens all of them generate.
    /// </summary>
    public (int Correct, long Tokens) EarlyStop(AllocationMapping mapping, EarlyStopRule stop, Func<int, string?, bool> isCorrect)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(stop);
        ArgumentNullException.ThrowIfNull(isCorrect);
        var policy = new AllocatedEarlyStopPolicy(mapping, stop);
        int correct = 0;
        long tokens = 0;
        for (int p = 0; p < _votes.Length; p++)
        {
            int n = EndsAt(p, policy);
            if (isCorrect(p, _votes[p][n - 1].Answer)) correct++;
            tokens += _tokens[p][n - 1];
        }
        return (correct, tokens);
    }

    /// <summary>The sample count prompt <paramref name="p"/> ends at under <paramref name="policy"/>.</summary>
    private int EndsAt(int p, AllocatedEarlyStopPolicy policy)
    {
        var votes = _votes[p];
        int probe = policy.Mapping.Probe;
        for (int n = 1; ; n++)
        {
            if (n > votes.Length)
                throw new InvalidOperationException($"prompt {p} has {votes.Length} stored samples; the policy asked for sample {n - 1}");
            bool certain = policy.Stop.IsCertain(votes[n - 1], _bestMean[p][n - 1], _bestWeakest[p][n - 1]);
            if (policy.Ends(n, certain, n < probe ? 0 : votes[probe - 1].LeaderCount)) return n;
        }
    }
}
