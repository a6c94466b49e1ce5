using Frugal.Inference.Engine;
using Frugal.Inference.Retention;
using Frugal.Inference.Sampling;

namespace Frugal.Tests.Engine;

/// <summary>The real engine (tiny llama) under KV budgets and context shift.</summary>
public class EngineRetentionTests
{
    private static int[] Prompt(int length, int seed)
    {
        var random = new Random(seed);
        return [1, .. Enumerable.Range(0, length - 1).Select(_ => random.Next(3, 512))];
    }

    [Fact]
    public async Task Under_a_budget_no_sequence_holds_more_blocks_than_it_needs_and_long_prompts_complete()
    {
        const int budget = 40, blockSize = 16;
        var retention = new KvRetentionOptions { Budget = budget, Policy = KvEvictionPolicy.KeyDiff };
        using var engine = ServingModels.TinyEngine(new EngineOptions { ContextLength = 256, BlockSize = blockSize, MaxRunningSequences = 3, KvRetention = retention });
        // The pool holds three budgets (40 + one block of slack: 4 blocks each), not three contexts.
        Assert.Equal(3 * 4 * blockSize * engine.KvBytesPerToken, engine.KvBytes);
        var requests = new[]
        {
            new EngineRequest { PromptTokens = Prompt(300, 1), MaxTokens = 60, IgnoreEos = true, Sampling = SamplingOptions.Greedy },
            new EngineRequest { PromptTokens = Prompt(30, 2), MaxTokens = 120, IgnoreEos = true, Sampling = SamplingOptions.Greedy },
            new EngineRequest { PromptTokens = Prompt(100, 3), MaxTokens = 50, IgnoreEos = true, Sampling = SamplingOptions.Greedy,
                KvRetention = new KvRetentionOptions { Budget = 20, Policy = KvEvictionPolicy.Window } },
        };
        var results = await Task.WhenAll(requests.Select(r => engine.Submit(r).CompleteAsync()));
        Assert.Equal([60, 120, 50], results.Select(r => r.Tokens.Count));
        Assert.All(results, r => Assert.Equal(EngineFinishReason.Length, r.Finished.Reason));
        Assert.InRange(engine.Metrics.KvBlocksPerSequencePeak, 3, 4);
        Assert.True(engine.Metrics.KvCompactions >= 20, $"{engine.Metrics.KvCompactions} compactions");
        Assert.True(await ServingModels.EventuallyAsync(() => engine.Metrics.KvBlocksUsed == 0));
    }

    [Fact]
    public async Task A_request_with_context_shift_generates_past_the_context()
    {
        using var engine = ServingModels.TinyEngine(new EngineOptions { ContextLength = 64, BlockSize = 16, MaxRunningSequences = 2 });
        var prompt = Prompt(20, 4);
        var shifted = await engine.Submit(new EngineRequest
        {
            PromptTokens = prompt, MaxTokens = 200, IgnoreEos = true, Sampling = SamplingOptions.Greedy,
            KvRetention = new KvRetentionOptions { ContextShift = true, Keep = 4 },
        }).CompleteAsync();
        Assert.Equal(200, shifted.Tokens.Count);
        Assert.Equal(EngineFinishReason.Length, shifted.Finished.Reason);
        Assert.True(engine.Metrics.KvCompactions >= 6, $"{engine.Metrics.KvCompactions} shifts");
        Assert.InRange(engine.Metrics.KvBlocksPerSequencePeak, 1, 4);

        // Without it, a request past the context is refused as before.
        var e = Assert.Throws<ArgumentException>(() => engine.Submit(new EngineRequest { PromptTokens = prompt, MaxTokens = 200 }));
        Assert.StartsWith("20 prompt tokens + 200 new tokens exceed the context of 64", e.Message);
    }

    [Fact]
    public void A_budget_that_does_not_fit_the_context_is_refused()
    {
        using var engine = ServingModels.TinyEngine(new EngineOptions { ContextLength = 64, KvBlocks = 8 });
        var e = Assert.Throws<ArgumentException>(() => engine.Submit(new EngineRequest { PromptTokens = Prompt(10, 5), KvRetention = new KvRetentionOptions { Budget = 64 } }));
        Assert.Equal("Budget", e.ParamName);
    }
}
