using System.Numerics.Tensors;
using System.Text.Json;
using Frugal.Inference.Embeddings;
using Frugal.Models.Synthetic;
using Frugal.Tests.Cli;
using Frugal.Tests.Oracle;
using Frugal.Tests.Server;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Frugal.Tests.Embeddings;

/// <summary>
/// Embeddings against llama.cpp (LLamaSharp's LLamaEmbedder on the same file with the same pooling), and the same
/// vectors through /v1/embeddings and frugal embed.
/// </summary>
public class EmbeddingTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private const string Text = "Once upon a time a small model read a story about the sea.";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<SyntheticFamily, Lazy<string>> Files = new();

    /// <summary>A tiny random-weight model that declares mean pooling in {arch}.pooling_type, as embedding models do.</summary>
    private static string ModelFile(SyntheticFamily family) => Files.GetOrAdd(family, f => new Lazy<string>(() =>
    {
        var spec = SyntheticModelSpec.Tiny(f, seed: 31);
        string dir = Path.Combine(Path.GetTempPath(), "frugal-tests", "embeddings");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"{spec.Name}-mean-{Environment.ProcessId}.gguf");
        SyntheticModelWriter.Build(spec).Add($"{spec.Architecture}.pooling_type", 1u).WriteTo(path);
        return path;
    })).Value;

    private static async Task<float[]> LlamaCppEmbedding(string path, LLamaPoolingType pooling, string text)
    {
        LlamaCppRuntime.EnsureLoaded();
        var p = new ModelParams(path)
        {
            ContextSize = 256, BatchSize = 256, UBatchSize = 256, Threads = 2, BatchThreads = 2, GpuLayerCount = 0,
            Embeddings = true, PoolingType = pooling, TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
        };
        using var weights = LLamaWeights.LoadFromFile(p);
        using var embedder = new LLamaEmbedder(weights, p);
        var vectors = await embedder.GetEmbeddings(text);
        return Assert.Single(vectors);
    }

    public static TheoryData<SyntheticFamily, string> Cases() => new()
    {
        { SyntheticFamily.Llama3, "mean" }, { SyntheticFamily.Llama3, "cls" }, { SyntheticFamily.Llama3, "last" },
        { SyntheticFamily.Qwen2, "mean" }, { SyntheticFamily.Qwen3, "last" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Embeddings_equal_llama_cpp_for_the_same_file_and_pooling(SyntheticFamily family, string pooling)
    {
        string path = ModelFile(family);
        var chosen = EmbeddingPoolings.Parse(pooling);
        // Mean comes from the file's pooling_type; the others from the option.
        using var generator = FrugalEmbeddingGenerator.Load(path, chosen == EmbeddingPooling.Mean ? null : chosen);
        Assert.Equal(chosen, generator.Pooling);
        var ours = (await generator.GenerateAsync([Text]))[0].Vector.ToArray();
        var reference = await LlamaCppEmbedding(path, chosen switch
        {
            EmbeddingPooling.Mean => LLamaPoolingType.Mean,
            EmbeddingPooling.Cls => LLamaPoolingType.CLS,
            _ => LLamaPoolingType.Last,
        }, Text);
        Assert.Equal(reference.Length, ours.Length);
        Assert.Equal(1f, TensorPrimitives.Norm(ours), 4);
        float cosine = TensorPrimitives.CosineSimilarity(ours, reference);
        Assert.True(cosine >= 0.9999f, $"cosine {cosine}");
    }

    [Fact]
    public async Task Pooling_changes_the_vector_and_different_texts_differ()
    {
        string path = ModelFile(SyntheticFamily.Llama3);
        using var mean = FrugalEmbeddingGenerator.Load(path);
        using var last = FrugalEmbeddingGenerator.Load(path, EmbeddingPooling.Last);
        var a = (await mean.GenerateAsync([Text, "Something else entirely."]));
        var b = (await last.GenerateAsync([Text]))[0].Vector.ToArray();
        Assert.True(TensorPrimitives.CosineSimilarity(a[0].Vector.Span, b) < 0.999f);
        Assert.True(TensorPrimitives.CosineSimilarity(a[0].Vector.Span, a[1].Vector.Span) < 0.999f);
        Assert.True(a.Usage!.InputTokenCount > 10);
    }

    private readonly ServerHarness _h = shared.Harness;

    [Fact]
    public async Task Server_embeddings_match_the_in_process_generator_for_text_tokens_and_base64()
    {
        var served = _h.Server.State.Model!;
        using var local = new FrugalEmbeddingGenerator(served.Engine, served.Pooling);
        var expected = await local.GenerateAsync(["hello there", "a second text"]);
        int[] tokens = served.Tokenizer.Encode("hello there", addSpecial: true, parseSpecial: true);

        var (status, body) = await _h.PostAsync("v1/embeddings", """{"model":"m","input":["hello there","a second text"]}""");
        Assert.True(status == 200, body.ToString());
        Assert.Equal("list", body.GetProperty("object").GetString());
        var data = body.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            Assert.Equal(expected[i].Vector.ToArray(), data[i].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray());
        }
        Assert.Equal(expected.Usage!.InputTokenCount, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        var (s2, fromTokens) = await _h.PostAsync("v1/embeddings", $"{{\"input\":[{string.Join(",", tokens)}],\"encoding_format\":\"base64\"}}");
        Assert.Equal(200, s2);
        byte[] raw = Convert.FromBase64String(fromTokens.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        Assert.Equal(expected[0].Vector.ToArray(), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).ToArray());
        Assert.Equal(tokens.Length, fromTokens.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task The_servers_pooling_option_overrides_the_files()
    {
        string path = ModelFile(SyntheticFamily.Llama3); // declares mean
        await using var h = await ServerHarness.StartAsync(o => o with { ModelPath = path, EmbeddingPooling = EmbeddingPooling.Last });
        using var last = FrugalEmbeddingGenerator.Load(path, EmbeddingPooling.Last);
        var expected = (await last.GenerateAsync([Text]))[0].Vector.ToArray();
        var (status, body) = await h.PostAsync("v1/embeddings", JsonSerializer.Serialize(new { input = Text }));
        Assert.Equal(200, status);
        Assert.Equal(expected, body.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray());
    }

    [Theory]
    [InlineData("""{"input":[]}""", "input")]
    [InlineData("""{"input":"x","encoding_format":"int8"}""", "encoding_format")]
    [InlineData("""{"input":"x","dimensions":3}""", "dimensions")]
    [InlineData("""{"input":[[1,2],[99999]]}""", "input")]
    [InlineData("""{"input":{"text":"x"}}""", "input")]
    public async Task Bad_embedding_requests_are_400_naming_the_field(string json, string field)
    {
        var (status, body) = await _h.PostAsync("v1/embeddings", json);
        Assert.True(status == 400, body.ToString());
        Assert.Equal(field, body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Embed_command_prints_the_generators_vectors()
    {
        string path = ModelFile(SyntheticFamily.Llama3);
        using var cli = new CliHarness();
        var o = cli.Run("embed", path, Text, "short", "--pooling", "cls", "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        using var doc = JsonDocument.Parse(o.Out);
        Assert.Equal("cls", doc.RootElement.GetProperty("pooling").GetString());
        var vectors = doc.RootElement.GetProperty("embeddings").EnumerateArray().Select(v => v.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToList();
        Assert.Equal(2, vectors.Count);
        using var generator = FrugalEmbeddingGenerator.Load(path, EmbeddingPooling.Cls);
        var expected = (await generator.GenerateAsync([Text]))[0].Vector.ToArray();
        Assert.Equal(expected, vectors[0]);

        var bad = cli.Run("embed", path, "x", "--pooling", "max");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--pooling", bad.Error);
    }
}
