using Frugal.Gguf;
using Frugal.Inference.Embeddings;
using Frugal.Inference.Engine;
using Frugal.Inference.Speculation;
using Frugal.Models;
using Frugal.Tokenization;
using Frugal.Tokenization.ChatTemplates;
using Microsoft.Extensions.Logging;

namespace Frugal.Server;

/// <summary>The loaded model the endpoints serve: engine, tokenizer, chat template and public id.</summary>
public sealed class ServedModel : IDisposable
{
    private readonly ILanguageModel _model;
    private ILanguageModel? _draft; // the speculative-decoding draft model, owned here

    private ServedModel(string id, ILanguageModel model, InferenceEngine engine, ChatTemplate? template, EmbeddingPooling pooling)
    {
        Pooling = pooling;
        _model = model;
        Id = id;
        Engine = engine;
        Template = template;
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    /// <summary>The model name clients use: the file name without .gguf.</summary>
    public string Id { get; }

    public InferenceEngine Engine { get; }

    public Tokenizer Tokenizer => Engine.Tokenizer;

    /// <summary>tokenizer.chat_template of the file; null when it has none (chat completions are refused then).</summary>
    public ChatTemplate? Template { get; }

    public long Created { get; }

    /// <summary>The weights' resident/streamed split under <c>--mem-budget</c>; null when the model is all resident by construction.</summary>
    public Frugal.Models.Residency.WeightResidency? Residency => _model.Residency;

    /// <summary>What the weight stream has read so far; null when nothing streams.</summary>
    public Frugal.Models.Residency.WeightStreamCounters? StreamCounters => _model.StreamCounters;

    /// <summary>How /v1/embeddings pools: the server's option, else the file's {arch}.pooling_type, else mean.</summary>
    public EmbeddingPooling Pooling { get; }

    public static ServedModel Load(ServerOptions options, ILoggerFactory? loggers = null)
    {
        string id = Path.GetFileNameWithoutExtension(options.ModelPath);
        Tokenizer tokenizer;
        ChatTemplate? template;
        EmbeddingPooling pooling;
        using (var file = GgufFile.Open(options.ModelPath))
        {
            tokenizer = Tokenizer.FromGguf(file);
            template = ChatTemplate.FromGguf(file);
            pooling = options.EmbeddingPooling ?? EmbeddingPoolings.FromGguf(file) ?? EmbeddingPooling.Mean;
        }
        var model = ModelLoader.Load(options.ModelPath, options.Weights);
        ILanguageModel? draft = null;
        try
        {
            if (options.Speculation != SpeculationMode.Off && options.DraftModelPath is { } draftPath)
                draft = ModelLoader.Load(draftPath);
            var engine = new InferenceEngine(model, tokenizer, new EngineOptions
            {
                ContextLength = options.ContextLength ?? Math.Min(model.Config.ContextLength, 4096),
                MaxRunningSequences = options.Parallel,
                MaxQueuedRequests = options.MaxQueuedRequests,
                KvBlocks = options.KvBlocks,
                KvCacheTypes = options.KvCacheTypes,
                KvRetention = options.KvRetention,
                Speculation = new SpeculationOptions { Mode = options.Speculation, DraftModel = draft, DraftMax = options.DraftMax },
            }, loggers?.CreateLogger<InferenceEngine>());
            var served = new ServedModel(id, model, engine, template, pooling);
            served._draft = draft;
            return served;
        }
        catch
        {
            draft?.Dispose();
            model.Dispose();
            throw;
        }
    }

    /// <summary>The prompt tokens of a conversation, rendered with the model's template.</summary>
    /// <param name="variables">further template variables (the tools).</param>
    public int[] ChatPrompt(IReadOnlyList<ChatMessage> messages, IReadOnlyDictionary<string, object?>? variables = null)
    {
        if (Template is null) throw new ArgumentException("the model has no tokenizer.chat_template; use /v1/completions");
        return Inference.ChatClient.ChatPrompt.Tokens(Tokenizer, Template, messages, variables);
    }

    public void Dispose()
    {
        Engine.Dispose();
        _draft?.Dispose();
        _model.Dispose();
    }
}
