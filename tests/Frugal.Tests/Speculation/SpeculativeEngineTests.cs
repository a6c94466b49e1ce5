using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Inference.Speculation;
using Frugal.Tests.Engine;

namespace Frugal.Tests.Speculation;

[Collection(BuiltInPair.Collection)]
public class SpeculativeEngineTests
{
    private static EngineRequest Request(int[] prompt, int maxTokens, SamplingOptions? sampling = null) =>
        new() { PromptTokens = prompt, MaxTokens = maxTokens, Sampling = sampling ?? SamplingOptions.Greedy };

    private static async Task<int[][]> RunAll(InferenceEngine engine, int[][] prompts, int maxTokens) =>
        (await Task.WhenAll(prompts.Select(p => engine.Submit(Request(p, maxTokens)).CompleteAsync())))
            .Select(c => c.Tokens.Select(t => t.TokenId).ToArray()).ToArray();

    [Theory]
    [InlineData(SpeculationMode.Lookup)]
    [InlineData(SpeculationMode.Draft)]
    [InlineData(SpeculationMode.Auto)]
    public async Task Speculation_inside_a_batch_of_eight_leaves_every_output_unchanged_and_returns_every_block(SpeculationMode mode)
    {
        var prompts = BuiltInPair.Prompts.Select(p => BuiltInPair.Tokenizer.Encode(p)).ToArray();
        Assert.Equal(8, prompts.Length);
        // Block size 16 and a 40-token output: drafts cross block boundaries, so rollbacks free whole blocks.
        var plain = new EngineOptions { MaxRunningSequences = 8, ContextLength = 256, BlockSize = 16 };
        int[][] expected;
        using (var engine = new InferenceEngine(BuiltInPair.Main, BuiltInPair.Tokenizer, plain))
            expected = await RunAll(engine, prompts, 40);

        // Never crowded: every sequence drafts while the seven others share its steps.
        var spec = new SpeculationOptions { AdaptToClock = false, Mode = mode, DraftMax = 6, DraftModel = BuiltInPair.Draft, CrowdedStep = 64 };
        using (var engine = new InferenceEngine(BuiltInPair.Main, BuiltInPair.Tokenizer, plain with { Speculation = spec }))
        {
            var together = await RunAll(engine, prompts, 40);
            for (int i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], together[i]);
            // One at a time too (no crowd at all), then the same prompts again: prefix-cache hits over blocks that held drafts.
            for (int i = 0; i < prompts.Length; i++)
                Assert.Equal(expected[i], (await engine.Submit(Request(prompts[i], 40)).CompleteAsync()).Tokens.Select(t => t.TokenId));
            Assert.True(engine.Metrics.SpeculativeAccepted > 0, "no draft was accepted");
            Assert.True(engine.Metrics.SpeculativeAccepted < engine.Metrics.SpeculativeDrafted, "no draft was rejected: the rollback was not exercised");
            Assert.True(await ServingModels.EventuallyAsync(() => engine.Metrics.KvBlocksUsed == 0), $"{engine.Metrics.KvBlocksUsed} KV blocks still held");
            Assert.True(engine.Metrics.PrefixCacheHits > 0);
        }
    }

    [Fact]
    public async Task A_crowded_step_does_not_draft()
    {
        var prompts = BuiltInPair.Prompts.Select(p => BuiltInPair.Tokenizer.Encode(p)).ToArray();
        var spec = new SpeculationOptions { AdaptToClock = false, Mode = SpeculationMode.Lookup, DraftMax = 6, CrowdedStep = 8 };
        using var engine = new InferenceEngine(BuiltInPair.Main, BuiltInPair.Tokenizer,
            new EngineOptions { MaxRunningSequences = 16, ContextLength = 256, Speculation = spec });
        // Sixteen samples of a copy prompt, queued as one group (so none can start decoding before the others are
        // admitted, however fast a step is): lookup would always draft, but fifteen others share every step.
        var streams = engine.Submit(Enumerable.Range(0, 16).Select(_ => Request(prompts[6], 8)).ToArray());
        await Task.WhenAll(streams.Select(s => s.CompleteAsync()));
        Assert.Equal(0, engine.Metrics.SpeculativeDrafted);
    }

    [Fact]
    public async Task Grammar_constrained_requests_decode_plainly_under_speculation()
    {
        var spec = new SpeculationOptions { AdaptToClock = false, Mode = SpeculationMode.Lookup, DraftMax = 6 };
        using var engine = new InferenceEngine(BuiltInPair.Main, BuiltInPair.Tokenizer, new EngineOptions { ContextLength = 256, Speculation = spec });
        var grammar = Frugal.Inference.Constraints.GbnfGrammar.Parse("root ::= (\"red\" | \" cat\" | \", \")+");
        var prompt = BuiltInPair.Tokenizer.Encode(BuiltInPair.Prompts[6]);
        var r = await engine.Submit(Request(prompt, 12) with { Grammar = grammar }).CompleteAsync();
        // 12 tokens may end inside an element (" cat, ,"): what was written is a sentence of the grammar, or a prefix of one at the limit.
        Assert.NotEmpty(r.Text);
        Assert.True(r.Finished.Reason == EngineFinishReason.Stop
            ? Constraints.GrammarText.Accepts(grammar, r.Text)
            : Constraints.GrammarText.IsPrefix(grammar, System.Text.Encoding.UTF8.GetBytes(r.Text)), r.Text);
        Assert.Equal(0, engine.Metrics.SpeculativeDrafted);
    }
}
