using Frugal.Gguf;
using Frugal.Inference.Engine;
using Frugal.Models;
using Frugal.Tokenization;
using Microsoft.Extensions.AI;

namespace Frugal.Inference.Embeddings;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over an <see cref="InferenceEngine"/>:
/// each text is tokenized (BOS added as for generation), run through the model to its final norm, pooled and
/// L2-normalized, as llama.cpp's embeddings are.
/// </summary>
public sealed class FrugalEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly InferenceEngine _engine;
    private readonly IDisposable? _owned;

    public FrugalEmbeddingGenerator(InferenceEngine engine, EmbeddingPooling pooling, string modelId = "frugal")
        : this(engine, pooling, modelId, null)
    {
    }

    private FrugalEmbeddingGenerator(InferenceEngine engine, EmbeddingPooling pooling, string modelId, IDisposable? owned)
    {
        _engine = engine ?? throw new ArgumentNullException(nameof(engine));
        Pooling = pooling;
        _owned = owned;
        Metadata = new EmbeddingGeneratorMetadata("frugal", defaultModelId: modelId, defaultModelDimensions: engine.ModelConfig.EmbeddingLength);
    }

    public EmbeddingGeneratorMetadata Metadata { get; }

    public EmbeddingPooling Pooling { get; }

    /// <summary>Loads a GGUF file; pooling is <paramref name="pooling"/>, else the file's <c>{arch}.pooling_type</c>, else mean.</summary>
    public static FrugalEmbeddingGenerator Load(string path, EmbeddingPooling? pooling = null, EngineOptions? options = null)
    {
        Tokenizer tokenizer;
        EmbeddingPooling chosen;
        using (var file = GgufFile.Open(path))
        {
            tokenizer = Tokenizer.FromGguf(file);
            chosen = pooling ?? EmbeddingPoolings.FromGguf(file) ?? EmbeddingPooling.Mean;
        }
        var model = ModelLoader.Load(path);
        InferenceEngine engine;
        try
        {
            engine = new InferenceEngine(model, tokenizer, options);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new FrugalEmbeddingGenerator(engine, chosen, Path.GetFileNameWithoutExtension(path), new Owned(engine, model));
    }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int d && d != _engine.ModelConfig.EmbeddingLength)
            throw new NotSupportedException($"this model's embeddings have {_engine.ModelConfig.EmbeddingLength} dimensions; {d} were asked");
        var result = new GeneratedEmbeddings<Embedding<float>>();
        long tokens = 0;
        foreach (string text in values)
        {
            int[] ids = _engine.Tokenizer.Encode(text, addSpecial: true, parseSpecial: true);
            tokens += ids.Length;
            float[] vector = await _engine.EmbedAsync(ids, Pooling, cancellationToken).ConfigureAwait(false);
            result.Add(new Embedding<float>(vector) { ModelId = Metadata.DefaultModelId, CreatedAt = DateTimeOffset.UtcNow });
        }
        result.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return result;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return Metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType == typeof(InferenceEngine)) return _engine;
        return null;
    }

    public void Dispose() => _owned?.Dispose();

    private sealed class Owned(InferenceEngine engine, ILanguageModel model) : IDisposable
    {
        public void Dispose()
        {
            engine.Dispose();
            model.Dispose();
        }
    }
}
