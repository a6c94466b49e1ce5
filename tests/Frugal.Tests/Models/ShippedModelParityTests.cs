using Frugal.Evaluation;
using Frugal.Gguf;
using Frugal.Models;
using Frugal.Tests.Oracle;
using Frugal.Tests.Training;
using Frugal.Tokenization;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>
/// The shipped built-in models, run by the engine and by llama.cpp: same tokens from the tokenizer, and logits that
/// agree at every position (cosine >= 0.999, same argmax wherever llama.cpp's top-2 margin is clear) on text of
/// every kind they were trained on, up to a recall item that fills most of the context.
/// </summary>
public class ShippedModelParityTests(ITestOutputHelper output)
{
    /// <summary>F16 weights: llama.cpp rounds activations to F16 before each F16 matmul, so near-ties may swap (see LlamaCppParityTests).</summary>
    private const float ClearMargin = 0.025f;

    [Theory]
    [InlineData("frugal-main.gguf")]
    [InlineData("frugal-draft.gguf")]
    public void Engine_logits_match_llama_cpp_on_every_task_kind(string name)
    {
        string path = Path.Combine(ShippedModels.Directory, name);
        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file);
        var tokenizer = Tokenizer.FromGguf(file);
        int vocab = model.Config.VocabSize;
        using var llamaVocab = new LlamaCppVocab(path);
        using var llama = LlamaCppModel.Load(path, (uint)model.Config.ContextLength);
        Assert.Equal(vocab, llama.VocabSize);

        foreach (string text in Texts())
        {
            int[] tokens = tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
            Assert.Equal(llamaVocab.Tokenize(text, addSpecial: true, parseSpecial: false), tokens);
            tokens = tokens[..Math.Min(tokens.Length, model.Config.ContextLength)]; // a longer recall format still fits
            float[] expected = llama.Logits(tokens);
            var actual = new float[tokens.Length * vocab]; // [tokens, vocab]
            model.Forward(tokens, model.CreateCache(tokens.Length, LlamaCppParityTests.ExactKv), actual, allLogits: true);
            double worst = LogitComparison.AssertClose(expected, actual, vocab, minCosine: 0.999, margin: ClearMargin);
            output.WriteLine($"{name} {tokens.Length,4} tokens: worst cosine {worst:F7}, max |diff| {LogitComparison.MaxAbsDiff(expected, actual):G3}");
        }
    }

    private static IEnumerable<string> Texts()
    {
        yield return HeldOutSets.Stories(1)[0];
        foreach (var task in Enum.GetValues<EvalTask>())
        {
            var item = HeldOutSets.Items(task, 1)[0];
            yield return item.Prompt + item.Expected + item.Terminator;
        }
    }
}
