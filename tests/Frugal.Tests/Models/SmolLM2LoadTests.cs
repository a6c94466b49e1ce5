using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Oracle;
using Frugal.Tests.Tokenization;
using Frugal.Tokenization;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>
/// SmolLM / SmolLM2 files are general.architecture "llama" with a byte-level BPE vocabulary and tokenizer.ggml.pre
/// "smollm". A SmolLM2-shaped file (tied embeddings, RoPE base 100000) carrying a real byte-level vocabulary under the
/// smollm pre-tokenizer loads, tokenizes text to llama.cpp's ids and gives llama.cpp's logits on them.
/// </summary>
public class SmolLM2LoadTests(ITestOutputHelper output)
{
    [Fact]
    public void A_smollm2_shaped_llama_file_with_the_smollm_pre_tokenizer_loads_and_matches_llama_cpp()
    {
        string path = Fixture();
        const string text = "SmolLM2 counts 12345 apples, then 678 more!\n\tdef f(x): return x ** 2  # squares";

        int[] expectedIds;
        using (var vocab = new LlamaCppVocab(path))
            expectedIds = vocab.Tokenize(text, addSpecial: true, parseSpecial: true);

        using var file = GgufFile.Open(path);
        Assert.Equal("smollm", file.GetString("tokenizer.ggml.pre"));
        var ids = Tokenizer.FromGguf(file).Encode(text);
        Assert.Equal(expectedIds, ids);

        float[] expected;
        using (var oracle = LlamaCppModel.Load(path))
            expected = oracle.Logits(ids);
        using var model = ModelLoader.Load(file);
        Assert.Equal("llama", model.Config.Architecture);
        var cache = model.CreateCache(ids.Length, LlamaCppParityTests.ExactKv);
        var logits = new float[ids.Length * model.Config.VocabSize];
        model.Forward(ids, cache, logits, allLogits: true);
        double worst = LogitComparison.AssertClose(expected, logits, model.Config.VocabSize, minCosine: 0.9999, margin: 0.025f);
        output.WriteLine($"{ids.Length} tokens ({string.Join(",", ids)}), worst cosine {worst:F8}");
    }

    /// <summary>A 2-layer SmolLM2-like llama file whose tokenizer.* keys are the Qwen3 byte-level vocabulary's under "smollm".</summary>
    private static string Fixture()
    {
        string vocabPath = HfVocabGguf.PathFor(HfTokenizer.Qwen3, "smollm");
        using var vocab = GgufFile.Open(vocabPath);
        var spec = new SyntheticModelSpec
        {
            Family = SyntheticFamily.Llama3,
            EmbeddingLength = 64,
            BlockCount = 2,
            HeadCount = 2,
            HeadCountKv = 1,
            HeadDim = 32,
            FeedForwardLength = 128,
            VocabSize = vocab.Metadata["tokenizer.ggml.tokens"].ArrayLength,
            ContextLength = 2048,
            RopeFreqBase = 100000f,
            TiedEmbeddings = true,
            WeightType = GgmlType.F16,
            Seed = 2024,
        };
        string source = SyntheticFixtures.PathOf(spec);
        var metadata = new Dictionary<string, GgufValue?>();
        using (var model = GgufFile.Open(source))
            foreach (var key in model.MetadataKeys.Where(k => k.StartsWith("tokenizer.", StringComparison.Ordinal)))
                metadata[key] = null;
        foreach (var key in vocab.MetadataKeys.Where(k => k.StartsWith("tokenizer.", StringComparison.Ordinal)))
            metadata[key] = vocab.Metadata[key];
        string path = SyntheticFixtures.NewPath("smollm2-like");
        File.WriteAllBytes(path, SyntheticFixtures.Rewrite(source, metadata));
        return path;
    }
}
