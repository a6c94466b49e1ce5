namespace Frugal.Inference.Voting;

/// <summary>
/// The learnt map from a prompt's difficulty to its extra samples: <see cref="Probe"/> first samples, then
/// <c>ExtraByAgreement[v]</c> more when the leading answer among the probes has v votes (v = 0: no probe gave an
/// answer). Fitted on a development split by <see cref="Fit"/>.
/// </summary>
public sealed record AllocationMapping
{
    public AllocationMapping(int probe, IReadOnlyList<int> extraByAgreement)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(probe, 1);
        ArgumentNullException.ThrowIfNull(extraByAgreement);
        if (extraByAgreement.Count != probe + 1)
            throw new ArgumentException($"expected {probe + 1} extra counts (agreement 0..{probe}), got {extraByAgreement.Count}", nameof(extraByAgreement));
        if (extraByAgreement.Any(e => e < 0)) throw new ArgumentException("extra sample counts must not be negative", nameof(extraByAgreement));
        Probe = probe;
        ExtraByAgreement = extraByAgreement.ToArray();
    }

    public int Probe { get; }

    public IReadOnlyList<int> ExtraByAgreement { get; }

    public int Extra(int leaderVotes) => ExtraByAgreement[Math.Clamp(leaderVotes, 0, Probe)];

    public override string ToString() =>
        ExtraByAgreement.Distinct().Count() == 1 && ExtraByAgreement[0] > 0
            ? $"flat cap {Probe + ExtraByAgreement[0]}"
            : $"probe {Probe}, extra by agreement [{string.Join(", ", ExtraByAgreement.Select((e, v) => $"{v}/{Probe}: +{e}"))}]";

    /// <summary>
    /// Learns the mapping at a mean budget of <paramref name="budget"/> samples per prompt from development pools
    /// (each prompt's samples in drawing order, at least <paramref name="probe"/> + <paramref name="maxExtra"/> of
    /// them): prompts are bucketed by their probes' agreement, the accuracy of majority vote at probe + e samples is
    /// counted per bucket for each e in 0, <paramref name="step"/>, ... <paramref name="maxExtra"/>, and a knapsack
    /// over the buckets picks the extras that answer the most prompts correctly (ties: fewer tokens). The knapsack
    /// counts generated tokens, not samples, since tokens are what a sample costs: the budget is the tokens of
    /// <paramref name="budget"/> average samples per prompt, and a bucket whose samples are short (an easier, shorter
    /// answer) pays less per extra sample than one whose samples are long.
    /// </summary>
    /// <param name="isCorrect">whether prompt i's voted answer is right.</param>
    public static (AllocationMapping Mapping, int Correct) Fit(IReadOnlyList<IReadOnlyList<SampleAnswer>> pools, Func<int, string?, bool> isCorrect,
        int probe, double budget, int maxExtra, int step = 1)
    {
        ArgumentNullException.ThrowIfNull(pools);
        ArgumentNullException.ThrowIfNull(isCorrect);
        if (pools.Count == 0) throw new ArgumentException("no development prompts to fit on", nameof(pools));
        if (budget < probe) throw new ArgumentOutOfRangeException(nameof(budget), budget, $"the budget must cover the {probe} probe samples");
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        for (int i = 0; i < pools.Count; i++)
            if (pools[i].Count < probe + maxExtra)
                throw new ArgumentException($"prompt {i} has {pools[i].Count} samples; fitting needs {probe + maxExtra}", nameof(pools));

        var options = Enumerable.Range(0, maxExtra / step + 1).Select(j => j * step).ToArray();
        var members = new List<int>[probe + 1];
        for (int v = 0; v <= probe; v++) members[v] = [];
        for (int i = 0; i < pools.Count; i++)
            members[AnswerVote.Majority(pools[i].Take(probe).ToList()).LeaderCount].Add(i);
        // Tokens in units of 1/8 of a mean sample: fine enough to price buckets apart, small enough for the table.
        double meanTokens = Math.Max(1, pools.Average(p => p.Take(probe + maxExtra).Average(s => (double)Math.Max(1, s.Tokens))));
        double unit = meanTokens / 8;
        // correct[v][j] / cost[v][j]: prompts of bucket v answered right by the vote over probe + options[j] samples, and
        // the units their extra samples take.
        var correct = new int[probe + 1][];
        var cost = new int[probe + 1][];
        for (int v = 0; v <= probe; v++)
        {
            correct[v] = new int[options.Length];
            cost[v] = new int[options.Length];
            for (int j = 0; j < options.Length; j++)
            {
                long tokens = 0;
                foreach (int i in members[v])
                {
                    if (isCorrect(i, AnswerVote.Majority(pools[i].Take(probe + options[j]).ToList()).Answer)) correct[v][j]++;
                    for (int k = probe; k < probe + options[j]; k++) tokens += Math.Max(1, pools[i][k].Tokens);
                }
                cost[v][j] = (int)Math.Round(tokens / unit);
            }
        }

        // Knapsack over buckets: capacity = the units the budget leaves for extras (budget x prompts mean samples, less the probes).
        int capacity = (int)Math.Floor((budget - probe) * pools.Count * 8 + 1e-9);
        var best = new int[probe + 2][];   // [v][c]: most prompts right with buckets < v using c units; -1: unreachable
        var pick = new int[probe + 1][];   // [v][c]: the option bucket v took on the way to best[v + 1][c]
        best[0] = new int[capacity + 1];
        Array.Fill(best[0], -1);
        best[0][0] = 0;
        for (int v = 0; v <= probe; v++)
        {
            best[v + 1] = new int[capacity + 1];
            Array.Fill(best[v + 1], -1);
            pick[v] = new int[capacity + 1];
            for (int c = 0; c <= capacity; c++)
            {
                if (best[v][c] < 0) continue;
                for (int j = 0; j < options.Length; j++)
                {
                    int next = c + cost[v][j];
                    if (next > capacity) continue;
                    int right = best[v][c] + correct[v][j];
                    if (right > best[v + 1][next]) { best[v + 1][next] = right; pick[v][next] = j; }
                }
            }
        }
        // The most right; ties to the fewest units.
        int at = 0;
        for (int c = 1; c <= capacity; c++)
            if (best[probe + 1][c] > best[probe + 1][at]) at = c;
        int most = best[probe + 1][at];
        var choice = new int[probe + 1];
        for (int v = probe; v >= 0; v--)
        {
            int j = pick[v][at];
            choice[v] = options[j];
            at -= cost[v][j];
        }
        return (new AllocationMapping(probe, choice), most);
    }
}
