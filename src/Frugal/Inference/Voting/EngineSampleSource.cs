using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;

namespace Frugal.Inference.Voting;

/// <summary>Reads a sample's answer from its text; <c>endedWithStop</c>: generation ended on its own (end of generation or a stop string), not at the token limit.</summary>
public delegate string? AnswerExtractor(string text, bool endedWithStop);

/// <summary>
/// Samples prompts on an <see cref="InferenceEngine"/>: the samples a round asks of one prompt go in as one sample
/// group (the prompt computed once, its KV blocks forked), each with its own seed fixed by (seed, prompt, sample
/// index), so a sample is the same whichever policy or round draws it.
/// </summary>
public sealed class EngineSampleSource(InferenceEngine engine, IReadOnlyList<int[]> prompts, Func<int, int> maxTokens,
    SamplingOptions sampling, AnswerExtractor extract, ulong seed)
{
    /// <summary>Prompt tokens the engine computed for these samples (forks and prefix-cache hits excluded).</summary>
    public long ComputedPromptTokens => Interlocked.Read(ref _computedPrompt);
    private long _computedPrompt;

    public SampleSource Source => DrawAsync;

    /// <summary>The seed of prompt <paramref name="prompt"/>'s sample <paramref name="index"/>.</summary>
    public static ulong SampleSeed(ulong seed, int prompt, int index)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (ulong)(prompt + 1) + 0xBF58476D1CE4E5B9UL * (ulong)(index + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private async Task<IReadOnlyList<SampleAnswer>> DrawAsync(int prompt, int first, int count, CancellationToken cancellationToken)
    {
        var requests = Enumerable.Range(first, count).Select(i => new EngineRequest
        {
            PromptTokens = prompts[prompt],
            MaxTokens = maxTokens(prompt),
            Sampling = sampling with { Seed = SampleSeed(seed, prompt, i) },
            Logprobs = true,
        }).ToList();
        var streams = engine.Submit(requests, cancellationToken);
        var done = await Task.WhenAll(streams.Select(s => s.CompleteAsync(cancellationToken))).ConfigureAwait(false);
        foreach (var d in done) Interlocked.Add(ref _computedPrompt, d.Finished.PromptTokens - d.Finished.CachedPromptTokens);
        return done.Select(d => new SampleAnswer(
            extract(d.Text, d.Finished.Reason == EngineFinishReason.Stop),
            d.Finished.CompletionTokens + (d.Finished.Reason == EngineFinishReason.Stop ? 1 : 0), // the end-of-generation token was sampled too
            d.Tokens.Count == 0 ? 0 : d.Tokens.Average(t => (double)(t.Logprob?.Logprob ?? 0)),
            d.Tokens.Count == 0 ? 0 : d.Tokens.Min(t => (double)(t.Logprob?.Logprob ?? 0)))).ToList();
    }
}
