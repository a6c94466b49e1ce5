using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Inference.Voting;

namespace Frugal.Tests.Engine;

/// <summary>Policies run live on the engine draw exactly the samples a replay of stored pools gives them.</summary>
public class EngineRepeatedSamplingTests
{
    [Fact]
    public async Task A_policy_run_live_on_the_engine_equals_its_replay_over_pools_drawn_beforehand()
    {
        using var engine = ServingModels.TinyEngine(new EngineOptions { MaxRunningSequences = 32 });
        var prompts = new[] { "a b c", "the cat sat on the", "one two three four", "x" }.Select(p => engine.Tokenizer.Encode(p)).ToList();
        var sampling = new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1, MinP = 0 };
        // The answer: the first generated character, so samples collide often enough to vote.
        var source = new EngineSampleSource(engine, prompts, _ => 3, sampling, (text, _) => text.Length == 0 ? null : text[..1], seed: 9);

        var pools = (await RepeatedSampling.RunAsync(prompts.Count, new UniformPolicy(8), source.Source)).Select(s => s.Samples).ToList();
        Assert.All(pools, p => Assert.Equal(8, p.Count));
        Assert.All(pools.SelectMany(p => p), s => Assert.InRange(s.Tokens, 1, 4));
        Assert.True(pools.SelectMany(p => p).Select(s => s.Answer).Distinct().Count() > 1, "samples should differ at temperature 1.5");

        var policy = new AllocatedEarlyStopPolicy(new AllocationMapping(3, [5, 5, 3, 0]), new EarlyStopRule(2, 0.6));
        var live = await RepeatedSampling.RunAsync(prompts.Count, policy, source.Source);
        var replayed = await RepeatedSampling.RunAsync(prompts.Count, policy, RepeatedSampling.Replay(pools));
        for (int p = 0; p < prompts.Count; p++)
        {
            Assert.Equal(replayed[p].Samples, live[p].Samples);
            Assert.Equal(replayed[p].Vote.Answer, live[p].Vote.Answer);
        }
        // Each uniform round of 8 was one sample group and 32 running slots hold them all: 7 of 8 samples forked the prompt.
        Assert.True(engine.Metrics.ForkedSamples >= 4 * 7, $"{engine.Metrics.ForkedSamples} forked samples");
    }
}
