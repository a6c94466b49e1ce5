using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Numerics.Attention;
using Frugal.Tests.Oracle;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>The forward pass against llama.cpp on the same synthetic GGUF files: logits at every position, greedy text.</summary>
public class LlamaCppParityTests(ITestOutputHelper output)
{
    private const int PromptLength = 64;

    public static TheoryData<SyntheticFamily, GgmlType, bool> Fixtures()
    {
        var data = new TheoryData<SyntheticFamily, GgmlType, bool>();
        foreach (var family in Enum.GetValues<SyntheticFamily>().Where(f => f != SyntheticFamily.Olmoe))
            foreach (var type in new[] { GgmlType.F32, GgmlType.F16 })
                foreach (bool tied in new[] { false, true })
                    data.Add(family, type, tied);
        return data;
    }

    public static TheoryData<SyntheticFamily, GgmlType> Families()
    {
        var data = new TheoryData<SyntheticFamily, GgmlType>();
        foreach (var family in Enum.GetValues<SyntheticFamily>().Where(f => f != SyntheticFamily.Olmoe))
            foreach (var type in new[] { GgmlType.F32, GgmlType.F16 })
                data.Add(family, type);
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Prompt_logits_at_every_position_match_llama_cpp(SyntheticFamily family, GgmlType type, bool tied)
    {
        var spec = SyntheticModelSpec.Tiny(family, type, tied);
        string path = SyntheticFixtures.PathOf(spec);
        var prompt = Prompt(spec.VocabSize, seed: 11);

        float[] expected;
        using (var oracle = LlamaCppModel.Load(path))
        {
            Assert.Equal(spec.VocabSize, oracle.VocabSize);
            expected = oracle.Logits(prompt);
        }
        var actual = Evaluate(path, prompt);

        double worst = LogitComparison.AssertClose(expected, actual, spec.VocabSize, minCosine: 0.9999, margin: ArgMaxMargin(type));
        output.WriteLine($"{spec.Name}: worst cosine {worst:F8}, max |diff| {LogitComparison.MaxAbsDiff(expected, actual):G3}, " +
                         $"logit range [{expected.Min():F2}, {expected.Max():F2}]");
    }

    [Fact]
    public void Linear_rope_scaling_matches_llama_cpp()
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Qwen2, GgmlType.F32, seed: 77);
        string path = SyntheticFixtures.NewPath("qwen2-linear-rope");
        File.WriteAllBytes(path, SyntheticFixtures.Rewrite(SyntheticFixtures.PathOf(spec), new Dictionary<string, GgufValue?>
        {
            ["qwen2.rope.scaling.type"] = new(GgufValueType.String, "linear"),
            ["qwen2.rope.scaling.factor"] = new(GgufValueType.Float32, 4f),
        }));
        var prompt = Prompt(spec.VocabSize, seed: 12);

        float[] expected;
        using (var oracle = LlamaCppModel.Load(path))
            expected = oracle.Logits(prompt);
        var actual = Evaluate(path, prompt);

        LogitComparison.AssertClose(expected, actual, spec.VocabSize, minCosine: 0.9999);
        // The scaling really changed the model: the unscaled file gives other logits.
        Assert.True(LogitComparison.MaxAbsDiff(Evaluate(SyntheticFixtures.PathOf(spec), prompt), actual) > 0.01f);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Greedy_continuation_matches_llama_cpp_token_for_token(SyntheticFamily family, GgmlType type)
    {
        var spec = SyntheticModelSpec.Tiny(family, type);
        string path = SyntheticFixtures.PathOf(spec);
        var prompt = Prompt(spec.VocabSize, seed: 5)[..16];
        const int count = 16;

        int[] expected;
        using (var oracle = LlamaCppModel.Load(path))
            expected = oracle.Greedy(prompt, count);

        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file);
        var cache = model.CreateCache(prompt.Length + count, ExactKv);
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

    /// <summary>
    /// The top-2 margin above which the argmax must agree. F32: 1e-3 (logits agree to ~1e-5). F16: llama.cpp rounds
    /// the activations to F16 before every F16 matmul (ggml's vec_dot_type), which moves logits by up to ~0.01 here,
    /// so two logits within 0.025 of each other may legitimately swap.
    /// </summary>
    private static float ArgMaxMargin(GgmlType type) => type == GgmlType.F16 ? 0.025f : 1e-3f;

    /// <summary>A fixed pseudo-random prompt: BOS, then tokens from the whole vocabulary (bytes and pieces).</summary>
    internal static int[] Prompt(int vocab, int seed, int length = PromptLength)
    {
        var rng = new Random(seed);
        var prompt = new int[length];
        prompt[0] = SyntheticVocabulary.Bos;
        for (int i = 1; i < length; i++) prompt[i] = rng.Next(SyntheticVocabulary.FirstByte, vocab);
        return prompt;
    }

    /// <summary>f32 K/V, as the oracle's context keeps them (LlamaCppModel): these tests compare the weights' arithmetic.</summary>
    internal static readonly KvCacheTypes ExactKv = new(KvElementType.F32, KvElementType.F32);

    /// <summary>All-position logits of our engine for a prompt evaluated in one batch: [prompt, vocab].</summary>
    internal static float[] Evaluate(string path, int[] prompt, KvCacheTypes? kv = null)
    {
        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file);
        var cache = model.CreateCache(prompt.Length, kv ?? ExactKv);
        var logits = new float[prompt.Length * model.Config.VocabSize];
        model.Forward(prompt, cache, logits, allLogits: true);
        Assert.Equal(prompt.Length, cache.Count);
        return logits;
    }
}
