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
    /// over the buckets picks the extras that answer the most prompts correctly within the budget (ties: fewer samples).
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
        // correct[v][j]: prompts of bucket v answered right by the vote over probe + options[j] samples.
        var correct = new int[probe + 1][];
        for (int v = 0; v <= probe; v++)
        {
            correct[v] = new int[options.Length];
            for (int j = 0; j < options.Length; j++)
                foreach (int i in members[v])
                    if (isCorrect(i, AnswerVote.Majority(pools[i].Take(probe + options[j]).ToList()).Answer)) correct[v][j]++;
        }

        // Knapsack over buckets: capacity = extra samples the budget leaves after the probes.
        int capacity = (int)Math.Floor((budget - probe) * pools.Count + 1e-9);
        var best = new (int Correct, int Cost, int[] Choice)?[capacity + 1];
        best[0] = (0, 0, new int[probe + 1]);
        for (int v = 0; v <= probe; v++)
        {
            var next = new (int Correct, int Cost, int[] Choice)?[capacity + 1];
            for (int c = 0; c <= capacity; c++)
            {
                if (best[c] is not { } at) continue;
                for (int j = 0; j < options.Length; j++)
                {
                    int cost = c + members[v].Count * options[j];
                    if (cost > capacity) break;
                    var choice = (int[])at.Choice.Clone();
                    choice[v] = options[j];
                    var candidate = (at.Correct + correct[v][j], cost, choice);
                    if (next[cost] is not { } old || candidate.Item1 > old.Correct) next[cost] = candidate;
                }
            }
            best = next;
        }
        var winner = best.Where(b => b is not null).Select(b => b!.Value).OrderByDescending(b => b.Correct).ThenBy(b => b.Cost).First();
        return (new AllocationMapping(probe, winner.Choice), winner.Correct);
    }
}
