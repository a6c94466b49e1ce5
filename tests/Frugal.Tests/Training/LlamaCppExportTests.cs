using System.Numerics.Tensors;
using Frugal.Evaluation;
using Frugal.Tests.Oracle;
using Frugal.Train.Bpe;
using Frugal.Train.Export;
using Frugal.Train.Model;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Frugal.Tests.Training;

/// <summary>
/// The exporter's GGUF must mean to llama.cpp what the trainer means: same token ids from the tokenizer metadata,
/// same logits from the tensors (RoPE layout, GQA head mapping, tied output, F16 matrices).
/// </summary>
public class LlamaCppExportTests
{
    private static readonly string[] Prompts =
    [
        "Once upon a time, there was a brave fox named Lily. She found a red ball.",
        "123+456=975",
        "Copy: red, cat, 17, ten.\nAgain: red, cat, 17, ten.",
        "The code for Anna is 4821. Tom saw a big dog. What is the code for Anna?",
    ];

    internal static BpeTokenizer SmallTokenizer()
    {
        var corpus = new CorpusGenerator(3);
        return BpeTrainer.Train(Enumerable.Range(0, 400).Select(i => corpus.Next((DocumentKind)(i % 4)).Text), 400);
    }

    [Fact]
    public void Random_model_exported_to_gguf_gives_llama_cpp_the_trainers_tokens_and_logits()
    {
        var tok = SmallTokenizer();
        var shape = new ModelShape(Dim: 64, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 96, Vocab: tok.VocabSize, Context: 128);
        var weights = new Weights(new ParameterLayout(shape));
        weights.Initialize(21);
        // Scale the 0.02 init up so attention patterns and gates are far from uniform: a layout mistake then shows.
        var rng = new SplitMix64(4);
        for (int i = 0; i < weights.Values.Length; i++) weights.Values[i] += (float)(rng.NextGaussian() * 0.15);
        GgufExport.RoundMatricesToF16(weights);
        string path = Path.Combine(Path.GetTempPath(), $"frugal-export-{Environment.ProcessId}.gguf");
        try
        {
            GgufExport.Write(weights, tok, "test", path);
            AssertLlamaCppAgrees(path, weights, tok);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("frugal-main.gguf")]
    [InlineData("frugal-draft.gguf")]
    public void Shipped_model_gives_llama_cpp_the_trainers_tokens_and_logits(string file)
    {
        string path = Path.Combine(ShippedModels.Directory, file);
        var tok = BpeTokenizer.Load(Path.Combine(ShippedModels.Directory, "tokenizer.json"));
        var weights = GgufExport.Load(path, GgufExport.ReadShape(path));
        AssertLlamaCppAgrees(path, weights, tok);
    }

    private static void AssertLlamaCppAgrees(string path, Weights weights, BpeTokenizer tok)
    {
        LlamaCppRuntime.EnsureLoaded();
        var parameters = new ModelParams(path) { ContextSize = (uint)weights.Shape.Context, BatchSize = 512, UBatchSize = 512, GpuLayerCount = 0 };
        using var model = LLamaWeights.LoadFromFile(parameters);
        var pass = new SequencePass(weights, weights.Shape.Context);
        int vocab = weights.Shape.Vocab;
        foreach (string prompt in Prompts)
        {
            int[] ours = [tok.Bos, .. tok.Encode(prompt)];
            int[] theirs = [.. model.Tokenize(prompt, true, false, System.Text.Encoding.UTF8).Select(t => (int)t)];
            Assert.Equal(ours, theirs);
            Assert.Equal(prompt, tok.Decode(ours));

            using var context = model.CreateContext(parameters);
            var batch = new LLamaBatch();
            for (int i = 0; i < ours.Length; i++) batch.Add(ours[i], i, LLamaSeqId.Zero, true);
            Assert.Equal(DecodeResult.Ok, context.NativeHandle.Decode(batch));
            pass.Forward(ours);
            var mine = pass.Logits(ours.Length);
            for (int i = 0; i < ours.Length; i++)
            {
                var a = mine.Slice(i * vocab, vocab);
                var b = context.NativeHandle.GetLogitsIth(i);
                Assert.Equal(vocab, b.Length);
                float cosine = TensorPrimitives.CosineSimilarity(a, b);
                Assert.True(cosine >= 0.999f, $"'{prompt}' position {i}: cosine {cosine}");
                Assert.Equal(TensorPrimitives.IndexOfMax(a), TensorPrimitives.IndexOfMax(b));
            }
        }
    }
}

/// <summary>Finds models/ at the repository root from the test's output folder.</summary>
internal static class ShippedModels
{
    public static string Directory { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "models");
            if (File.Exists(Path.Combine(candidate, "tokenizer.json"))) return candidate;
        }
        throw new DirectoryNotFoundException($"no models/tokenizer.json above {AppContext.BaseDirectory}");
    }
}
