using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Oracle;
using LLama.Native;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>
/// phi3 (fused QKV and gate-up, partial NeoX RoPE, LongRoPE), smollm3 (NoPE every 4th layer) and YaRN against llama.cpp
/// on synthetic files with each family's tensor names, shapes and metadata: logits at every position of a 300-token
/// prompt (cosine >= 0.9999 with F16 weights, >= 0.999 quantized by llama.cpp's own quantizer) and greedy continuations
/// token for token. Both engines run with a context of 512 positions per sequence, which is what picks LongRoPE's set.
/// </summary>
public class LongContextFamilyParityTests(ITestOutputHelper output)
{
    private const int PromptLength = 300, Context = 512, Continuation = 12;

    /// <summary>As <see cref="LlamaCppParityTests"/> for F16 weights: llama.cpp rounds activations to F16 before F16 matmuls.</summary>
    private const float F16Margin = 0.025f;

    /// <summary>As <see cref="QuantizedParityTests"/>: where one 8-bit activation rounds the other way, argmax may swap below this.</summary>
    private const float QuantizedMargin = 0.05f;

    public enum Case
    {
        /// <summary>Phi-3 shapes: fused tensors, 24 of 32 head dims rotated, LongRoPE from 128 positions (so the long set).</summary>
        Phi3Long,

        /// <summary>Phi-3 whose original context (1024) holds the run's 512: the short set.</summary>
        Phi3Short,

        /// <summary>Phi-3-mini-4k: no factor sets, whole-head RoPE, tied embeddings.</summary>
        Phi3Plain,

        /// <summary>SmolLM3: 4 layers, the last without RoPE.</summary>
        SmolLM3,

        /// <summary>Qwen2 with YaRN factor 4 from 4096 positions: the ramp spans pairs 3..8 of 16.</summary>
        Qwen2Yarn,

        /// <summary>Qwen3 (heads of 48) with YaRN factor 8 from 2048 positions.</summary>
        Qwen3Yarn,
    }

    internal static SyntheticModelSpec Spec(Case c, GgmlType type, int width = 128) => c switch
    {
        Case.Phi3Long => Tiny(SyntheticFamily.Phi3, type, width) with { ContextLength = 4096, LongRope = new LongRopeScaling(128) },
        Case.Phi3Short => Tiny(SyntheticFamily.Phi3, type, width) with { ContextLength = 4096, LongRope = new LongRopeScaling(1024) },
        Case.Phi3Plain => Tiny(SyntheticFamily.Phi3, type, width) with { LongRope = null, RopeDimensionCount = 0, TiedEmbeddings = true },
        Case.SmolLM3 => Tiny(SyntheticFamily.SmolLM3, type, width) with { TiedEmbeddings = true },
        Case.Qwen2Yarn => Tiny(SyntheticFamily.Qwen2, type, width) with { ContextLength = 16384, Yarn = new YarnRopeScaling(4f, 4096) },
        Case.Qwen3Yarn => Tiny(SyntheticFamily.Qwen3, type, width) with { ContextLength = 16384, Yarn = new YarnRopeScaling(8f, 2048) },
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    /// <summary>Tiny shapes, or (width 256) the quantized tests' shapes: heads of 64, feed-forward 512.</summary>
    private static SyntheticModelSpec Tiny(SyntheticFamily family, GgmlType type, int width)
    {
        var spec = SyntheticModelSpec.Tiny(family, type, seed: 4321);
        if (width == 128) return spec;
        int headDim = family == SyntheticFamily.Qwen3 ? 96 : width / spec.HeadCount;
        return spec with
        {
            EmbeddingLength = width,
            HeadDim = headDim,
            FeedForwardLength = 2 * width,
            RopeDimensionCount = spec.RopeDimensionCount == 0 ? 0 : headDim * 3 / 4,
        };
    }

    public static TheoryData<Case> Cases()
    {
        var data = new TheoryData<Case>();
        foreach (var c in Enum.GetValues<Case>()) data.Add(c);
        return data;
    }

    public static TheoryData<Case, LLamaFtype> QuantizedCases()
    {
        var data = new TheoryData<Case, LLamaFtype>();
        foreach (var c in Enum.GetValues<Case>())
            data.Add(c, c is Case.Phi3Long or Case.Qwen3Yarn ? LLamaFtype.MOSTLY_Q4_0 : LLamaFtype.MOSTLY_Q8_0);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void F16_logits_of_a_300_token_prompt_and_greedy_continuation_match_llama_cpp(Case c)
    {
        var spec = Spec(c, GgmlType.F16);
        Compare(SyntheticFixtures.PathOf(spec), spec.Name, seed: 31, minCosine: 0.9999, margin: F16Margin);
    }

    [Theory]
    [MemberData(nameof(QuantizedCases))]
    public void Llama_cpp_quantized_logits_and_greedy_continuation_match_llama_cpp(Case c, LLamaFtype type)
    {
        var spec = Spec(c, GgmlType.F32, width: 256);
        string path = SyntheticFixtures.NewPath($"{spec.Name}-{type}");
        LlamaCppModel.Quantize(SyntheticFixtures.PathOf(spec), path, type);
        Compare(path, $"{spec.Name} {type}", seed: 32, minCosine: 0.999, margin: QuantizedMargin);
    }

    /// <summary>The scaling is really in force: the same weights without it give other logits, in both engines alike.</summary>
    [Theory]
    [InlineData(Case.Phi3Long, Case.Phi3Short)]
    [InlineData(Case.Qwen2Yarn, null)]
    public void Rope_scaling_changes_the_logits(Case scaled, Case? other)
    {
        var spec = Spec(scaled, GgmlType.F32);
        var baseline = other is { } o ? Spec(o, GgmlType.F32) : spec with { Yarn = null };
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 33, length: 96);
        var a = Evaluate(SyntheticFixtures.PathOf(spec), prompt);
        var b = Evaluate(SyntheticFixtures.PathOf(baseline), prompt);
        float diff = LogitComparison.MaxAbsDiff(a, b);
        output.WriteLine($"{spec.Name} vs {baseline.Name}: max |diff| {diff:G3}");
        Assert.True(diff > 0.05f, $"the scaling moved logits by only {diff:G3}");
    }

    [Fact]
    public void LongRope_takes_the_long_factors_only_beyond_the_original_context()
    {
        var spec = Spec(Case.Phi3Short, GgmlType.F32);   // original context 1024
        var prompt = LlamaCppParityTests.Prompt(spec.VocabSize, seed: 34, length: 48);
        string path = SyntheticFixtures.PathOf(spec);
        var within = Evaluate(path, prompt, contextLength: 1024);
        var beyond = Evaluate(path, prompt, contextLength: 1025);
        float[] expectedBeyond;
        using (var oracle = LlamaCppModel.Load(path, contextSize: 1025))
            expectedBeyond = oracle.Logits(prompt);
        LogitComparison.AssertClose(expectedBeyond, beyond, spec.VocabSize, minCosine: 0.9999);
        Assert.True(LogitComparison.MaxAbsDiff(within, beyond) > 0.05f);
    }

    private void Compare(string path, string name, int seed, double minCosine, float margin)
    {
        using var probe = GgufFile.Open(path);
        int vocab = checked((int)probe.FindTensor("token_embd.weight")!.RowCount);
        var prompt = LlamaCppParityTests.Prompt(vocab, seed, PromptLength);

        float[] expected;
        int[] expectedTokens;
        float[] margins;
        using (var oracle = LlamaCppModel.Load(path, contextSize: Context))
        {
            Assert.Equal(vocab, oracle.VocabSize);
            expected = oracle.Logits(prompt);
            (expectedTokens, margins) = oracle.GreedyWithMargins(prompt, Continuation);
        }
        var actual = Evaluate(path, prompt);
        double worst = LogitComparison.AssertClose(expected, actual, vocab, minCosine, margin);
        // llama.cpp's greedy continuation, step by step on its own tokens: our argmax must be its token at every step
        // but those where its top two lie within the margin (there either engine's rounding may pick the other one, for
        // the margins' reasons above). Following its tokens keeps one near-tie from turning the rest into other texts.
        var ours = ArgMaxAlong(path, prompt, expectedTokens);
        int compared = 0;
        for (int t = 0; t < Continuation; t++)
        {
            if (margins[t] < margin) continue;
            Assert.True(expectedTokens[t] == ours[t], $"greedy step {t}: llama.cpp {expectedTokens[t]} (margin {margins[t]:G3}), ours {ours[t]}");
            compared++;
        }
        output.WriteLine($"{name}: worst cosine {worst:F8} over {PromptLength} positions, max |diff| {LogitComparison.MaxAbsDiff(expected, actual):G3}; " +
                         $"greedy {string.Join(",", ours)} (llama.cpp {string.Join(",", expectedTokens)}, margins {string.Join(",", margins.Select(m => m.ToString("F3")))}), " +
                         $"{compared} of {Continuation} steps decisive and equal");
        Assert.True(compared >= Continuation / 2, $"only {compared} greedy steps were decisive enough to compare");
    }

    private static ModelLoadOptions Options(int contextLength) => new() { ContextLength = contextLength };

    private static float[] Evaluate(string path, int[] prompt, int contextLength = Context)
    {
        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file, Options(contextLength));
        var cache = model.CreateCache(prompt.Length, LlamaCppParityTests.ExactKv);
        var logits = new float[prompt.Length * model.Config.VocabSize];
        model.Forward(prompt, cache, logits, allLogits: true);
        return logits;
    }

    /// <summary>Our argmax after the prompt and after each of <paramref name="continuation"/>'s tokens but the last.</summary>
    private static int[] ArgMaxAlong(string path, int[] prompt, int[] continuation)
    {
        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file, Options(Context));
        var cache = model.CreateCache(prompt.Length + continuation.Length, LlamaCppParityTests.ExactKv);
        var logits = new float[model.Config.VocabSize];
        model.Forward(prompt, cache, logits);
        var tokens = new int[continuation.Length];
        for (int t = 0; t < continuation.Length; t++)
        {
            tokens[t] = LogitComparison.ArgMax(logits);
            model.Forward([continuation[t]], cache, logits);
        }
        return tokens;
    }
}
