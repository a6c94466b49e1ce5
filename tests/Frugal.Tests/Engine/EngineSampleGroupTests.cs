using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;

namespace Frugal.Tests.Engine;

/// <summary>n samples of one prompt submitted as a group: the prompt is computed once and its KV blocks forked.</summary>
public class EngineSampleGroupTests
{
    private static EngineRequest Sample(int[] prompt, ulong seed, int maxTokens = 12) =>
        new() { PromptTokens = prompt, MaxTokens = maxTokens, Sampling = new SamplingOptions { Temperature = 1, Seed = seed } };

    [Theory]
    [InlineData("a prompt of a few words that ends inside a block")]   // partial last block: copy-on-write
    [InlineData("abcdefghijklmnop")]
    public async Task A_group_of_samples_forks_the_prompt_and_gives_the_same_tokens_as_each_sample_alone(string text)
    {
        using var engine = ServingModels.TinyEngine(new EngineOptions { MaxRunningSequences = 8, BlockSize = 16 });
        int[] prompt = engine.Tokenizer.Encode(text);
        var alone = new List<int[]>();
        for (int i = 0; i < 6; i++)
        {
            var r = await engine.Submit(Sample(prompt, (ulong)(100 + i))).CompleteAsync();
            alone.Add(r.Tokens.Select(t => t.TokenId).ToArray());
            await ServingModels.EventuallyAsync(() => engine.Metrics.KvBlocksUsed == 0);
        }
        Assert.True(alone.Select(a => string.Join(",", a)).Distinct().Count() > 1, "different seeds should give different samples");
        Assert.Equal(0, engine.Metrics.ForkedSamples);

        var streams = engine.Submit(Enumerable.Range(0, 6).Select(i => Sample(prompt, (ulong)(100 + i))).ToList());
        var together = await Task.WhenAll(streams.Select(s => s.CompleteAsync()));

        for (int i = 0; i < 6; i++)
            Assert.Equal(alone[i], together[i].Tokens.Select(t => t.TokenId).ToArray());
        Assert.Equal(5, engine.Metrics.ForkedSamples);
        // Every fork took the whole prompt from its parent.
        Assert.All(together.Skip(1), r => Assert.Equal(prompt.Length, r.Finished.CachedPromptTokens));
        Assert.True(await ServingModels.EventuallyAsync(() => engine.Metrics.KvBlocksUsed == 0), "forked blocks were not all released");
    }

    [Fact]
    public async Task Samples_beyond_the_running_limit_wait_and_still_finish_with_their_own_tokens()
    {
        using var engine = ServingModels.TinyEngine(new EngineOptions { MaxRunningSequences = 3 });
        int[] prompt = engine.Tokenizer.Encode("once upon a time there was a");
        var alone = new List<int[]>();
        for (int i = 0; i < 5; i++)
            alone.Add((await engine.Submit(Sample(prompt, (ulong)i)).CompleteAsync()).Tokens.Select(t => t.TokenId).ToArray());

        var together = await Task.WhenAll(engine.Submit(Enumerable.Range(0, 5).Select(i => Sample(prompt, (ulong)i)).ToList()).Select(s => s.CompleteAsync()));
        for (int i = 0; i < 5; i++)
            Assert.Equal(alone[i], together[i].Tokens.Select(t => t.TokenId).ToArray());
        Assert.Equal(2, engine.Metrics.ForkedSamples); // 3 running slots: the parent and two forks
    }

    [Fact]
    public async Task Cancelling_the_first_sample_before_its_prompt_is_computed_leaves_the_others_to_finish()
    {
        using var engine = ServingModels.TinyEngine(new EngineOptions { MaxRunningSequences = 4 });
        int[] prompt = engine.Tokenizer.Encode("the quick brown fox jumps");
        var streams = engine.Submit(Enumerable.Range(0, 3).Select(i => Sample(prompt, (ulong)i)).ToList());
        streams[0].Cancel();
        var rest = await Task.WhenAll(streams.Skip(1).Select(s => s.CompleteAsync()));
        Assert.All(rest, r => Assert.Equal(EngineFinishReason.Length, r.Finished.Reason));
        Assert.True(await ServingModels.EventuallyAsync(() => engine.Metrics.KvBlocksUsed == 0));
    }

    [Fact]
    public void A_group_whose_prompts_differ_is_refused_naming_the_sample()
    {
        using var engine = ServingModels.TinyEngine();
        var e = Assert.Throws<ArgumentException>(() => engine.Submit([Sample([1, 2, 3], 1), Sample([1, 2, 4], 2)]));
        Assert.Contains("sample 1", e.Message);
        Assert.Throws<ArgumentException>(() => engine.Submit(Array.Empty<EngineRequest>()));
    }
}
