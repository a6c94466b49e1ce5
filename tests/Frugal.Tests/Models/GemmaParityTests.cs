using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Oracle;
using LLama.Native;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>
/// Gemma 2 and Gemma 3 against llama.cpp on synthetic files with their exact tensor names and metadata, over a
/// 300-token prompt that is longer than the fixtures' 64-position sliding window, so the local layers' window
/// (and Gemma 3's local RoPE base) decides the logits of most positions.
/// </summary>
public class GemmaParityTests(ITestOutputHelper output)
{
    private const int PromptLength = 300;
    private const int Window = 64;

    public static TheoryData<SyntheticFamily> Families() => new() { SyntheticFamily.Gemma2, SyntheticFamily.Gemma3 };

    public static TheoryData<SyntheticFamily, LLamaFtype> Quantized()
    {
        var data = new TheoryData<SyntheticFamily, LLamaFtype>();
        foreach (var family in new[] { SyntheticFamily.Gemma2, SyntheticFamily.Gemma3 })
            foreach (var type in new[] { LLamaFtype.MOSTLY_Q8_0, LLamaFtype.MOSTLY_Q4_0 })
                data.Add(family, type);
        return data;
    }

    private static SyntheticModelSpec Spec(SyntheticFamily family, GgmlType type) =>
        SyntheticModelSpec.TinyGemma(family, type, seed: 31) with { SlidingWindow = Window };

    private static int[] Prompt(int vocab) => LlamaCppParityTests.Prompt(vocab, seed: 41, length: PromptLength);

    [Theory]
    [MemberData(nameof(Families))]
    public void Logits_of_a_300_token_prompt_match_llama_cpp_at_every_position(SyntheticFamily family)
    {
        var spec = Spec(family, GgmlType.F16);
        string path = SyntheticFixtures.PathOf(spec);
        var prompt = Prompt(spec.VocabSize);

        float[] expected;
        using (var oracle = LlamaCppModel.Load(path, contextSize: 512))
        {
            Assert.Equal(spec.VocabSize, oracle.VocabSize);
            expected = oracle.Logits(prompt);
        }
        var actual = LlamaCppParityTests.Evaluate(path, prompt);

        double worst = LogitComparison.AssertClose(expected, actual, spec.VocabSize, minCosine: 0.9999, margin: 0.025f);
        output.WriteLine($"{spec.Name}: worst cosine {worst:F8}, max |diff| {LogitComparison.MaxAbsDiff(expected, actual):G3}");
    }

    /// <summary>
    /// The window is really applied: the same weights with a window wider than the prompt give the same logits up to
    /// the window and other logits after it, and llama.cpp agrees with each file.
    /// </summary>
    [Theory]
    [MemberData(nameof(Families))]
    public void The_sliding_window_changes_the_logits_only_past_the_window(SyntheticFamily family)
    {
        var spec = Spec(family, GgmlType.F32);
        string windowed = SyntheticFixtures.PathOf(spec);
        string wide = SyntheticFixtures.NewPath($"{spec.Name}-wide");
        File.WriteAllBytes(wide, SyntheticFixtures.Rewrite(windowed, new Dictionary<string, GgufValue?>
        {
            [$"{spec.Architecture}.attention.sliding_window"] = new(GgufValueType.UInt32, 4096u),
        }));
        var prompt = Prompt(spec.VocabSize);
        int vocab = spec.VocabSize;

        var narrow = LlamaCppParityTests.Evaluate(windowed, prompt);
        var full = LlamaCppParityTests.Evaluate(wide, prompt);
        float before = LogitComparison.MaxAbsDiff(narrow.AsSpan(0, Window * vocab), full.AsSpan(0, Window * vocab));
        float after = LogitComparison.MaxAbsDiff(narrow.AsSpan(Window * vocab), full.AsSpan(Window * vocab));
        output.WriteLine($"{spec.Name}: window {Window} vs 4096, max |diff| {before:G3} before position {Window}, {after:G3} after");
        Assert.True(before < 1e-4f, $"logits before the window's end differ by {before}");
        Assert.True(after > 0.1f, $"the window changed later logits by only {after}");

        float[] expected;
        using (var oracle = LlamaCppModel.Load(wide, contextSize: 512))
            expected = oracle.Logits(prompt);
        LogitComparison.AssertClose(expected, full, vocab, minCosine: 0.9999);
    }

    [Theory]
    [MemberData(nameof(Quantized))]
    public void Logits_of_a_llama_cpp_quantized_file_match_llama_cpp(SyntheticFamily family, LLamaFtype type)
    {
        var spec = Spec(family, GgmlType.F32);
        string path = SyntheticFixtures.NewPath($"{spec.Name}-{type}");
        LlamaCppModel.Quantize(SyntheticFixtures.PathOf(spec), path, type);
        var prompt = Prompt(spec.VocabSize);

        float[] expected;
        using (var oracle = LlamaCppModel.Load(path, contextSize: 512))
            expected = oracle.Logits(prompt);
        var actual = LlamaCppParityTests.Evaluate(path, prompt);

        // The argmax bar of QuantizedParityTests (8-bit activation rounding flips, measured there).
        double worst = LogitComparison.AssertClose(expected, actual, spec.VocabSize, minCosine: 0.999, margin: 0.05f);
        output.WriteLine($"{spec.Name} {type}: worst cosine {worst:F6}, max |diff| {LogitComparison.MaxAbsDiff(expected, actual):G3}");
    }

    /// <summary>Decoding past the window, one token at a time (the decode path of the windowed kernel), as llama.cpp does.</summary>
    [Theory]
    [MemberData(nameof(Families))]
    public void Greedy_continuation_of_the_long_prompt_matches_llama_cpp_token_for_token(SyntheticFamily family)
    {
        var spec = Spec(family, GgmlType.F16);
        string path = SyntheticFixtures.PathOf(spec);
        var prompt = Prompt(spec.VocabSize);
        const int count = 24;

        int[] expected;
        using (var oracle = LlamaCppModel.Load(path, contextSize: 512))
            expected = oracle.Greedy(prompt, count);

        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file);
        var cache = model.CreateCache(prompt.Length + count, LlamaCppParityTests.ExactKv);
        var logits = new float[model.Config.VocabSize];
        model.Forward(prompt, cache, logits);
        var actual = new int[count];
        for (int t = 0; t < count; t++)
        {
            actual[t] = LogitComparison.ArgMax(logits);
            model.Forward([actual[t]], cache, logits);
        }
        Assert.Equal(expected, actual);
    }

    /// <summary>A prompt fed in chunks that straddle the window and block edges gives the one-batch logits.</summary>
    [Theory]
    [MemberData(nameof(Families))]
    public void Chunked_prefill_across_the_window_matches_llama_cpp(SyntheticFamily family)
    {
        var spec = Spec(family, GgmlType.F32);
        string path = SyntheticFixtures.PathOf(spec);
        var prompt = Prompt(spec.VocabSize);
        int vocab = spec.VocabSize;

        float[] expected;
        using (var oracle = LlamaCppModel.Load(path, contextSize: 512))
            expected = oracle.Logits(prompt);

        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file);
        var cache = model.CreateCache(prompt.Length, LlamaCppParityTests.ExactKv);
        var actual = new float[prompt.Length * vocab];
        int start = 0;
        foreach (int chunk in new[] { 37, 1, 90, 5, 100, 67 })
        {
            model.Forward(prompt.AsSpan(start, chunk), cache, actual.AsSpan(start * vocab, chunk * vocab), allLogits: true);
            start += chunk;
        }
        Assert.Equal(prompt.Length, start);
        LogitComparison.AssertClose(expected, actual, vocab, minCosine: 0.9999);
    }

    /// <summary>Under a memory budget the streamed Gemma 3 layers (sandwich and Q/K norms included) compute the resident logits bit for bit.</summary>
    [Fact]
    public void Streamed_layers_under_a_memory_budget_compute_the_same_logits()
    {
        // ~28 MB in Q8_0: 6 layers of ~4.2 MB, tied embedding of 4096 x 512.
        var spec = SyntheticModelSpec.TinyGemma(SyntheticFamily.Gemma3, GgmlType.Q8_0, seed: 5) with
        {
            EmbeddingLength = 512, HeadCount = 8, HeadCountKv = 4, HeadDim = 64, FeedForwardLength = 2048, VocabSize = 4096, SlidingWindow = 16,
        };
        string path = SyntheticFixtures.PathOf(spec);
        int[] prompt = Enumerable.Range(0, 40).Select(i => (i * 131 + 7) % spec.VocabSize).ToArray();
        float[] Logits(ModelLoadOptions options)
        {
            using var model = ModelLoader.Load(path, options);
            Assert.Equal(options.MemoryBudget is not null, model.Residency!.IsStreaming);
            var cache = model.CreateCache(prompt.Length + 1);
            var logits = new float[prompt.Length * spec.VocabSize];
            model.Forward(prompt, cache, logits, allLogits: true);
            return logits;
        }
        Assert.Equal(Logits(new ModelLoadOptions()), Logits(new ModelLoadOptions { MemoryBudget = 12L << 20 }));
    }

    /// <summary>A per-layer sliding_window_pattern array (as newer converters write) picks the windowed layers; a bad one is named.</summary>
    [Fact]
    public void A_per_layer_window_pattern_is_followed_and_a_malformed_one_is_refused_by_name()
    {
        string source = SyntheticFixtures.PathOf(Spec(SyntheticFamily.Gemma3, GgmlType.F32));
        ModelConfig Load(GgufValue pattern)
        {
            string path = SyntheticFixtures.NewPath("gemma3-pattern");
            File.WriteAllBytes(path, SyntheticFixtures.Rewrite(source, new Dictionary<string, GgufValue?> { ["gemma3.attention.sliding_window_pattern"] = pattern }));
            using var file = GgufFile.Open(path);
            using var model = ModelLoader.Load(file);
            return model.Config;
        }
        var flags = new GgufValue(GgufValueType.Array, new[] { false, true, true, false, true, false }, GgufValueType.Bool);
        Assert.Equal([0, Window, Window, 0, Window, 0], Load(flags).SlidingWindows);
        Assert.Equal([Window, 0, Window, 0, Window, 0], Load(new GgufValue(GgufValueType.UInt32, 2u)).SlidingWindows);

        var e = Assert.Throws<ModelFormatException>(() => Load(new GgufValue(GgufValueType.Array, new[] { true, false }, GgufValueType.Bool)));
        Assert.Equal("gemma3.attention.sliding_window_pattern", e.Item);
        Assert.Contains("2 flags for 6 layers", e.Message);
        e = Assert.Throws<ModelFormatException>(() => Load(new GgufValue(GgufValueType.String, "LLLLLG")));
        Assert.Equal("gemma3.attention.sliding_window_pattern", e.Item);
    }

    [Fact]
    public void Gemma_hyper_parameters_are_read_as_llama_cpp_reads_them()
    {
        using (var file = GgufFile.Open(SyntheticFixtures.PathOf(Spec(SyntheticFamily.Gemma2, GgmlType.F32))))
        using (var model = ModelLoader.Load(file))
        {
            var c = model.Config;
            Assert.Equal([Window, 0], c.SlidingWindows);   // period 2: even layers local
            Assert.Equal(MathF.Sqrt(128), c.EmbeddingScale);
            Assert.Equal(1f / MathF.Sqrt(48), c.AttentionScale);
            Assert.Equal((4f, 6f), (c.AttentionSoftCap, c.FinalLogitSoftCap));
            Assert.Equal(c.RopeFreqBase, c.RopeFreqBaseOf(0));
        }
        using (var file = GgufFile.Open(SyntheticFixtures.PathOf(Spec(SyntheticFamily.Gemma3, GgmlType.F32))))
        using (var model = ModelLoader.Load(file))
        {
            var c = model.Config;
            Assert.Equal([Window, Window, Window, Window, Window, 0], c.SlidingWindows);   // period 6: five local, one global
            Assert.Equal((10000f, 1f), (c.RopeFreqBaseOf(0), c.RopeFreqScaleOf(0)));
            Assert.Equal((1000000f, 1f / 8), (c.RopeFreqBaseOf(5), c.RopeFreqScaleOf(5)));
            Assert.Equal((0f, 0f), (c.AttentionSoftCap, c.FinalLogitSoftCap));
        }
    }
}
