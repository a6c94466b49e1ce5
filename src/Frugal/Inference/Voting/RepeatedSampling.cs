namespace Frugal.Inference.Voting;

/// <summary>Draws <c>count</c> more samples of prompt <c>prompt</c>, starting at sample index <c>first</c> (indexes fix the seeds).</summary>
public delegate Task<IReadOnlyList<SampleAnswer>> SampleSource(int prompt, int first, int count, CancellationToken cancellationToken);

/// <summary>One prompt's samples (in drawing order) and its vote.</summary>
public sealed record SolvedPrompt(int Prompt, IReadOnlyList<SampleAnswer> Samples, VoteResult Vote)
{
    public int Tokens => Samples.Sum(s => s.Tokens);
}

/// <summary>
/// Runs a <see cref="SamplingPolicy"/> over many prompts: each prompt draws the rounds its policy asks for, prompts
/// run concurrently (so the engine batches their samples), and each ends with a majority vote. With a source that
/// replays stored samples in index order, the same policy gives exactly what it gives live.
/// </summary>
public static class RepeatedSampling
{
    public static async Task<IReadOnlyList<SolvedPrompt>> RunAsync(int prompts, SamplingPolicy policy, SampleSource source,
        int maxConcurrentPrompts = 16, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(prompts);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentPrompts, 1);
        var results = new SolvedPrompt[prompts];
        using var gate = new SemaphoreSlim(maxConcurrentPrompts);
        await Task.WhenAll(Enumerable.Range(0, prompts).Select(async p =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                results[p] = await SolveAsync(p, policy, source, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        return results;
    }

    public static async Task<SolvedPrompt> SolveAsync(int prompt, SamplingPolicy policy, SampleSource source, CancellationToken cancellationToken = default)
    {
        var drawn = new List<SampleAnswer>();
        while (policy.Next(drawn) is int more and > 0)
        {
            if (drawn.Count + more > policy.MaxSamples)
                throw new InvalidOperationException($"policy {policy.Name} asked for {drawn.Count + more} samples, past its own maximum of {policy.MaxSamples}");
            drawn.AddRange(await source(prompt, drawn.Count, more, cancellationToken).ConfigureAwait(false));
        }
        return new SolvedPrompt(prompt, drawn, AnswerVote.Majority(drawn));
    }

    /// <summary>A source that replays stored samples: prompt p's sample i is <c>pools[p][i]</c>.</summary>
    public static SampleSource Replay(IReadOnlyList<IReadOnlyList<SampleAnswer>> pools) => (p, first, count, _) =>
    {
        if (first + count > pools[p].Count)
            throw new InvalidOperationException($"prompt {p} has {pools[p].Count} stored samples; the policy asked for sample {first + count - 1}");
        return Task.FromResult<IReadOnlyList<SampleAnswer>>(pools[p].Skip(first).Take(count).ToList());
    };
}
