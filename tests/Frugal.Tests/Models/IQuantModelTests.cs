using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Oracle;
using LLama.Native;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>
/// Llama-shaped files quantized to IQ4_NL / IQ4_XS by llama.cpp's own quantizer (no importance matrix needed) run end
/// to end against llama.cpp; the I-quants without kernels here are refused at load by name.
/// </summary>
public class IQuantModelTests(ITestOutputHelper output)
{
    private const int PromptLength = 300;

    public static TheoryData<LLamaFtype, GgmlType> Cases() => new()
    {
        { LLamaFtype.MOSTLY_IQ4_NL, GgmlType.IQ4_NL },
        { LLamaFtype.MOSTLY_IQ4_XS, GgmlType.IQ4_XS },
    };

    private static SyntheticModelSpec Spec => SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, GgmlType.F32) with
    {
        EmbeddingLength = 256, HeadDim = 64, FeedForwardLength = 512, ContextLength = 1024,
    };

    private static string QuantizedFile(LLamaFtype ftype, GgmlType expectedType)
    {
        string path = SyntheticFixtures.NewPath($"{Spec.Name}-{ftype}");
        LlamaCppModel.Quantize(SyntheticFixtures.PathOf(Spec), path, ftype);
        using var file = GgufFile.Open(path);
        // The layers really are the I-quant (llama.cpp may pick other types for a few tensors of a mix).
        int count = file.Tensors.Count(t => t.Type == expectedType && t.Name.StartsWith("blk.", StringComparison.Ordinal));
        Assert.True(count >= 10, $"{ftype}: only {count} layer tensors are {expectedType}");
        return path;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_at_every_position_of_a_300_token_prompt_match_llama_cpp(LLamaFtype ftype, GgmlType type)
    {
        string path = QuantizedFile(ftype, type);
        var prompt = LlamaCppParityTests.Prompt(Spec.VocabSize, seed: 31, length: PromptLength);
        float[] expected;
        using (var oracle = LlamaCppModel.Load(path, contextSize: 512))
            expected = oracle.Logits(prompt);
        var actual = LlamaCppParityTests.Evaluate(path, prompt);
        double worst = LogitComparison.AssertClose(expected, actual, Spec.VocabSize, minCosine: 0.999, margin: 0.05f);
        output.WriteLine($"{type}: worst cosine over {PromptLength} positions {worst:F6}, max |diff| {LogitComparison.MaxAbsDiff(expected, actual):G3}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Greedy_continuation_after_a_300_token_prompt_matches_llama_cpp_up_to_near_ties(LLamaFtype ftype, GgmlType type)
    {
        string path = QuantizedFile(ftype, type);
        var prompt = LlamaCppParityTests.Prompt(Spec.VocabSize, seed: 32, length: PromptLength);
        const int count = 24;
        int[] expected;
        float[] margins;
        using (var oracle = LlamaCppModel.Load(path, contextSize: 512))
            (expected, margins) = oracle.GreedyWithMargins(prompt, count);

        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file);
        // Free-running: our own tokens fed back, identical to llama.cpp's up to its first near-tie (top-2 margin
        // below 0.05, where the two engines' 8-bit activation rounding may legitimately pick the other token; see
        // QuantizedParityTests.ArgMaxMargin) or to the end.
        var actual = Decode(model, prompt, count, forced: null);
        int firstTie = Array.FindIndex(margins, m => m < NearTie);
        int agreeUpTo = firstTie < 0 ? count : firstTie;
        output.WriteLine($"{type}: ours {string.Join(' ', actual)}; llama.cpp {string.Join(' ', expected)}; margins {string.Join(' ', margins.Select(m => m.ToString("F3")))}");
        Assert.Equal(expected[..agreeUpTo], actual[..agreeUpTo]);
        Assert.True(agreeUpTo >= 8, $"llama.cpp's continuation has a near-tie at step {agreeUpTo}");
        // Teacher-forced on llama.cpp's tokens: every one of the steps, near-ties aside, picks llama.cpp's token.
        var forced = Decode(model, prompt, count, forced: expected);
        for (int t = 0; t < count; t++)
            Assert.True(forced[t] == expected[t] || margins[t] < NearTie,
                $"{type} step {t}: ours {forced[t]}, llama.cpp {expected[t]} (its top-2 margin {margins[t]:F3})");
    }

    private const float NearTie = 0.05f;

    /// <summary>Greedy steps after <paramref name="prompt"/>: feeding back our argmax, or <paramref name="forced"/>'s tokens.</summary>
    private static int[] Decode(ILanguageModel model, int[] prompt, int count, int[]? forced)
    {
        var cache = model.CreateCache(prompt.Length + count, LlamaCppParityTests.ExactKv);
        var logits = new float[model.Config.VocabSize];
        model.Forward(prompt, cache, logits);
        var picked = new int[count];
        for (int t = 0; t < count; t++)
        {
            picked[t] = LogitComparison.ArgMax(logits);
            model.Forward([forced?[t] ?? picked[t]], cache, logits);
        }
        return picked;
    }

    [Theory]
    [InlineData(GgmlType.IQ1_S)]
    [InlineData(GgmlType.IQ1_M)]
    [InlineData(GgmlType.IQ2_XXS)]
    [InlineData(GgmlType.IQ2_XS)]
    [InlineData(GgmlType.IQ2_S)]
    [InlineData(GgmlType.IQ3_XXS)]
    [InlineData(GgmlType.IQ3_S)]
    [InlineData(GgmlType.TQ1_0)]
    [InlineData(GgmlType.TQ2_0)]
    public void Other_i_quants_are_refused_at_load_naming_the_tensor_the_type_and_the_supported_types(GgmlType type)
    {
        string source = SyntheticFixtures.PathOf(Spec);
        const string victim = "blk.1.ffn_down.weight";
        var image = SyntheticFixtures.Rewrite(source, tensor: t => t.Name == victim
            ? (type, t.Dimensions, new byte[GgmlTypeInfo.RowBytes(type, t.Dimensions[0]) * t.RowCount])
            : (t.Type, t.Dimensions, Bytes(source, t.Name)));
        using var file = GgufFile.FromBytes(image, "iquant.gguf");
        var e = Assert.Throws<NotSupportedException>(() => ModelLoader.Load(file).Dispose());
        Assert.Contains(victim, e.Message);
        Assert.Contains($"type {type},", e.Message);
        Assert.Contains("supported weight types: F32, F16, BF16, Q4_0", e.Message);
        Assert.Contains("IQ4_NL, IQ4_XS", e.Message);
    }

    private static byte[] Bytes(string path, string tensor)
    {
        using var file = GgufFile.Open(path);
        return file.GetTensorBytes(file.GetTensor(tensor)).ToArray();
    }
}
