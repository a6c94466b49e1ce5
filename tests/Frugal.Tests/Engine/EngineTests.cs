using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;

namespace Frugal.Tests.Engine;

public class EngineTests
{
    private static readonly string[] Prompts =
    [
        "a", "hello there", "the quick brown fox", "once upon a time in a land far away",
        "x y z", "tell me a story about a cat who", "abc", "numbers one two three four five six",
        "q", "lorem ipsum dolor sit amet consectetur", "hi", "a b c d e f g h i j k l m n o p q r s",
        "what", "long long long long long long long long long long prompt here", "z", "the end",
    ];

    private static EngineRequest Greedy(int[] prompt, int maxTokens) =>
        new() { PromptTokens = prompt, MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy };

    [Fact]
    public async Task Sixteen_concurrent_greedy_requests_match_the_same_requests_run_one_at_a_time()
    {
        using var engine = ServingModels.TinyEngine(new EngineOptions { MaxRunningSequences = 16, MaxTokensPerStep = 64 });
        var prompts = Prompts.Select(p => engine.Tokenizer.Encode(p)).ToArray();
        int MaxTokens(int i) => 3 + i % 7;

        var alone = new List<int[]>();
        for (int i = 0; i < prompts.Length; i++)
        {
            var r = await engine.Submit(Greedy(prompts[i], MaxTokens(i))).CompleteAsync();
            alone.Add(r.Tokens.Select(t => t.TokenId).ToArray());
        }
        long stepsAlone = engine.Metrics.Steps;

        var together = await Task.WhenAll(prompts.Select((p, i) => engine.Submit(Greedy(p, MaxTokens(i))).CompleteAsync()));
        long stepsTogether = engine.Metrics.Steps - stepsAlone;

        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(alone[i], together[i].Tokens.Select(t => t.TokenId).ToArray());
        Assert.All(alone, a => Assert.NotEmpty(a));
        // Batched: the 16 requests shared steps instead of taking one step each per token.
        Assert.True(stepsTogether < stepsAlone / 2, $"batched run took {stepsTogether} steps, one at a time {stepsAlone}");
    }

    [Fact]
    public async Task Sequences_preempted_for_lack_of_kv_blocks_are_recomputed_to_the_same_output()
    {
        // 6 blocks of 16 positions; each sequence needs up to 4, so 4 running ones cannot all keep theirs.
        using var engine = ServingModels.TinyEngine(new EngineOptions { KvBlocks = 6, MaxRunningSequences = 4, ContextLength = 64 });
        var prompts = Prompts.Take(6).Select(p => engine.Tokenizer.Encode(p)).ToArray();
        var alone = new List<int[]>();
        foreach (var p in prompts)
            alone.Add((await engine.Submit(Greedy(p, 30)).CompleteAsync()).Tokens.Select(t => t.TokenId).ToArray());
        Assert.Equal(0, engine.Metrics.Preemptions);

        var together = await Task.WhenAll(prompts.Select(p => engine.Submit(Greedy(p, 30)).CompleteAsync()));
        Assert.True(engine.Metrics.Preemptions > 0);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(alone[i], together[i].Tokens.Select(t => t.TokenId).ToArray());
        Assert.True(await ServingModels.EventuallyAsync(() => engine.Metrics.KvBlocksUsed == 0));
    }

    [Fact]
    public async Task Fifty_streams_dropped_mid_stream_leave_no_kv_blocks_in_use()
    {
        using var engine = ServingModels.TinyEngine(new EngineOptions { MaxRunningSequences = 8, MaxQueuedRequests = 64 });
        var prompt = engine.Tokenizer.Encode("a prompt that streams for a while");
        var greedyLong = Greedy(prompt, 200);
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            int read = 0;
            await foreach (var e in engine.Submit(greedyLong with { Sampling = new SamplingOptions { Temperature = 1, Seed = (ulong)i } }).ReadAllAsync())
            {
                Assert.IsType<EngineToken>(e);
                if (++read == 2) break; // the client goes away
            }
        }));
        Assert.True(await ServingModels.EventuallyAsync(() => engine.Metrics.KvBlocksUsed == 0 && engine.Metrics.RunningSequences == 0),
            $"{engine.Metrics.KvBlocksUsed} blocks still used, {engine.Metrics.RunningSequences} sequences running");
        Assert.Equal(0, engine.Metrics.QueueDepth);
        Assert.True(engine.Metrics.CompletionTokens < 50 * 200);
    }

    [Fact]
    public async Task Cancelling_the_token_ends_the_stream_with_a_cancelled_finish()
    {
        using var engine = ServingModels.TinyEngine();
        var prompt = engine.Tokenizer.Encode("cancel me");
        var request = Greedy(prompt, 200);
        var full = await engine.Submit(request).CompleteAsync();
        Assert.Equal(EngineFinishReason.Length, full.Finished.Reason); // uncancelled, it runs all 200 tokens

        using var before = new CancellationTokenSource();
        before.Cancel();
        Assert.Throws<OperationCanceledException>(() => engine.Submit(request, before.Token));

        // The tiny model can write all 200 tokens before the reader's cancel reaches the engine (a race on a busy
        // machine, about 1 run in 30): a stream that finished first is tried again, up to 5 times.
        EngineFinished finished = null!;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            using var cts = new CancellationTokenSource();
            var events = new List<EngineEvent>();
            await foreach (var e in engine.Submit(request, cts.Token).ReadAllAsync())
            {
                events.Add(e);
                if (events.Count == 1) cts.Cancel();
            }
            finished = Assert.IsType<EngineFinished>(events[^1]);
            if (finished.Reason != EngineFinishReason.Length) break;
        }
        Assert.Equal(EngineFinishReason.Cancelled, finished.Reason);
        Assert.InRange(finished.CompletionTokens, 1, 199);
        Assert.True(await ServingModels.EventuallyAsync(() => engine.Metrics.KvBlocksUsed == 0));
    }

    [Fact]
    public async Task Length_limit_stop_strings_and_logprobs_are_reported()
    {
        using var engine = ServingModels.TinyEngine();
        var prompt = engine.Tokenizer.Encode("the quick brown fox");
        var full = await engine.Submit(Greedy(prompt, 12) with { Logprobs = true, TopLogprobs = 3 }).CompleteAsync();
        Assert.Equal(EngineFinishReason.Length, full.Finished.Reason);
        Assert.Equal(12, full.Finished.CompletionTokens);
        Assert.Equal(prompt.Length, full.Finished.PromptTokens);
        foreach (var t in full.Tokens)
        {
            Assert.True(t.Logprob!.Value.Logprob <= 0);
            Assert.Equal(3, t.TopLogprobs!.Count);
            Assert.Equal(t.TokenId, t.TopLogprobs[0].TokenId); // greedy picks the most likely token
            Assert.True(t.TopLogprobs[0].Logprob >= t.TopLogprobs[1].Logprob && t.TopLogprobs[1].Logprob >= t.TopLogprobs[2].Logprob);
        }
        Assert.Equal(engine.Tokenizer.Decode(full.Tokens.Select(t => t.TokenId).ToArray()), full.Text);

        // Stop at a piece of the greedy text: the output is the text before it, finish reason stop.
        string stop = full.Text.Substring(full.Text.Length / 2, 2);
        var stopped = await engine.Submit(Greedy(prompt, 12) with { StopStrings = [stop] }).CompleteAsync();
        Assert.Equal(EngineFinishReason.Stop, stopped.Finished.Reason);
        Assert.Equal(full.Text[..full.Text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
    }

    [Fact]
    public async Task Seeded_sampling_repeats_and_different_seeds_differ()
    {
        using var engine = ServingModels.TinyEngine();
        var prompt = engine.Tokenizer.Encode("random words");
        EngineRequest Sampled(ulong seed) => Greedy(prompt, 16) with { Sampling = new SamplingOptions { Temperature = 1.5f, Seed = seed } };
        var runs = await Task.WhenAll(new ulong[] { 5, 5, 6 }.Select(s => engine.Submit(Sampled(s)).CompleteAsync()));
        Assert.Equal(runs[0].Text, runs[1].Text);
        Assert.NotEqual(runs[0].Text, runs[2].Text);
    }

    [Fact]
    public async Task Requests_beyond_the_context_or_the_queue_are_refused()
    {
        using var engine = ServingModels.TinyEngine(new EngineOptions { ContextLength = 64, MaxQueuedRequests = 0 });
        var prompt = engine.Tokenizer.Encode("hello");
        var tooLong = Assert.Throws<ArgumentException>(() => engine.Submit(Greedy(prompt, 64)));
        Assert.Contains("context of 64", tooLong.Message);
        var full = Assert.Throws<ContextLengthExceededException>(() => engine.Submit(Greedy(new int[64], 1)));
        Assert.Equal((64, 64), (full.PromptTokens, full.ContextLength));
        Assert.Throws<EngineOverloadedException>(() => engine.Submit(Greedy(prompt, 4)));
        await Task.CompletedTask;
    }
}
