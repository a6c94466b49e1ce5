using Frugal.Numerics.Attention;
using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;

namespace Frugal.Tests.Models;

/// <summary>The engine agrees with itself: batched prefill, token-by-token decode, chunks and cache truncation.</summary>
public class ForwardConsistencyTests
{
    private const float Tolerance = 1e-4f;

    [Theory]
    [InlineData(SyntheticFamily.Llama3)]
    [InlineData(SyntheticFamily.Qwen2)]
    [InlineData(SyntheticFamily.Qwen3)]
    public void Prefill_in_one_batch_equals_token_by_token_decode(SyntheticFamily family)
    {
        var spec = SyntheticModelSpec.Tiny(family, GgmlType.F16);
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 3);
        var batched = LlamaCppParityTests.Evaluate(SyntheticFixtures.PathOf(spec), prompt, KvCacheTypes.Default);

        using var file = GgufFile.Open(SyntheticFixtures.PathOf(spec));
        using var model = ModelLoader.Load(file);
        int vocab = model.Config.VocabSize;
        var cache = model.CreateCache(prompt.Length);
        var step = new float[vocab];
        for (int i = 0; i < prompt.Length; i++)
        {
            model.Forward(prompt.AsSpan(i, 1), cache, step);
            Assert.True(LogitComparison.MaxAbsDiff(batched.AsSpan(i * vocab, vocab), step) <= Tolerance,
                $"position {i}: decode differs from prefill by {LogitComparison.MaxAbsDiff(batched.AsSpan(i * vocab, vocab), step):G3}");
        }
        Assert.Equal(prompt.Length, cache.Count);
    }

    [Fact]
    public void Chunked_prefill_equals_one_batch_and_last_token_logits_are_the_last_row()
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, GgmlType.F16, tied: true);
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 4);
        var batched = LlamaCppParityTests.Evaluate(SyntheticFixtures.PathOf(spec), prompt, KvCacheTypes.Default);

        using var file = GgufFile.Open(SyntheticFixtures.PathOf(spec));
        using var model = ModelLoader.Load(file);
        int vocab = model.Config.VocabSize;
        var cache = model.CreateCache(prompt.Length);
        var first = new float[23 * vocab];
        model.Forward(prompt.AsSpan(0, 23), cache, first, allLogits: true);
        var last = new float[vocab];
        model.Forward(prompt.AsSpan(23), cache, last);

        Assert.True(LogitComparison.MaxAbsDiff(batched.AsSpan(0, 23 * vocab), first) <= Tolerance);
        Assert.True(LogitComparison.MaxAbsDiff(batched.AsSpan((prompt.Length - 1) * vocab, vocab), last) <= Tolerance);
    }

    [Fact]
    public void Truncating_the_cache_and_evaluating_other_tokens_forgets_the_old_ones()
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Qwen2, GgmlType.F32);
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 8, length: 40);
        var other = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 9, length: 40);
        var branched = prompt[..30].Concat(other[30..]).ToArray();
        var expected = LlamaCppParityTests.Evaluate(SyntheticFixtures.PathOf(spec), branched, KvCacheTypes.Default);

        using var file = GgufFile.Open(SyntheticFixtures.PathOf(spec));
        using var model = ModelLoader.Load(file);
        int vocab = model.Config.VocabSize;
        var cache = model.CreateCache(40);
        var logits = new float[40 * vocab];
        model.Forward(prompt, cache, logits, allLogits: true);
        cache.Truncate(30);
        Assert.Equal(30, cache.Count);
        model.Forward(branched.AsSpan(30), cache, logits, allLogits: true);

        Assert.True(LogitComparison.MaxAbsDiff(expected.AsSpan(30 * vocab, 10 * vocab), logits.AsSpan(0, 10 * vocab)) <= Tolerance);
        // The first prompt's tail really was different: otherwise this test could not tell truncation from no-op.
        var unbranched = LlamaCppParityTests.Evaluate(SyntheticFixtures.PathOf(spec), prompt, KvCacheTypes.Default);
        Assert.True(LogitComparison.MaxAbsDiff(unbranched.AsSpan(30 * vocab, 10 * vocab), logits.AsSpan(0, 10 * vocab)) > 0.01f);
    }

    [Fact]
    public void Mistral_alias_loads_llama_code_and_gives_the_same_logits()
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, GgmlType.F16);
        string llama = SyntheticFixtures.PathOf(spec);
        string mistral = SyntheticFixtures.NewPath("mistral");
        File.WriteAllBytes(mistral, SyntheticFixtures.Rewrite(llama,
            metadata: new Dictionary<string, GgufValue?> { ["general.architecture"] = new(GgufValueType.String, "mistral") },
            renameKey: k => k.StartsWith("llama.", StringComparison.Ordinal) ? "mistral." + k["llama.".Length..] : k));
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 2, length: 12);

        var expected = LlamaCppParityTests.Evaluate(llama, prompt);
        var actual = LlamaCppParityTests.Evaluate(mistral, prompt);

        Assert.Equal(expected, actual);
        using var file = GgufFile.Open(mistral);
        using var model = ModelLoader.Load(file);
        Assert.Equal("mistral", model.Config.Architecture);
    }

    [Fact]
    public void Config_reads_the_hyper_parameters_of_the_file()
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Qwen3, GgmlType.F32, tied: true);
        using var file = GgufFile.Open(SyntheticFixtures.PathOf(spec));
        using var model = ModelLoader.Load(file);
        var c = model.Config;
        Assert.Equal(("qwen3", 512, 512, 128, 2), (c.Architecture, c.VocabSize, c.ContextLength, c.EmbeddingLength, c.BlockCount));
        Assert.Equal((4, 2, 48, 256), (c.HeadCount, c.HeadCountKv, c.HeadDim, c.FeedForwardLength));
        Assert.Equal((1e-6f, 1e6f, 48, true), (c.RmsNormEpsilon, c.RopeFreqBase, c.RopeDims, c.TiedEmbeddings));
        Assert.Equal(Frugal.Numerics.Ops.RopeStyle.NeoX, c.RopeStyle);
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    public void A_decode_step_allocates_nothing_once_warm(GgmlType type)
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Qwen2, type);
        using var file = GgufFile.Open(SyntheticFixtures.PathOf(spec));
        using var model = ModelLoader.Load(file);
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 5, length: 40);
        var cache = model.CreateCache(128);
        var logits = new float[model.Config.VocabSize];
        model.Forward(prompt, cache, logits);
        // Warm: scratch sized, and past the JIT's 30-call tier-up, whose bookkeeping allocates a few bytes once.
        for (int i = 0; i < 40; i++) model.Forward(prompt.AsSpan(i, 1), cache, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 12; i++) model.Forward(prompt.AsSpan(i, 1), cache, logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
