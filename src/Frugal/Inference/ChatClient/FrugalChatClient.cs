using System.Runtime.CompilerServices;
using Frugal.Gguf;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Models;
using Frugal.Tokenization;
using Frugal.Tokenization.ChatTemplates;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using TemplateMessage = Frugal.Tokenization.ChatTemplates.ChatMessage;

namespace Frugal.Inference.ChatClient;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IChatClient"/> over an <see cref="InferenceEngine"/>: .NET apps chat with a
/// local model in-process, streaming or not, sharing the engine (and its batching) with any other callers.
/// </summary>
public sealed class FrugalChatClient : IChatClient
{
    private readonly InferenceEngine _engine;
    private readonly ChatTemplate _template;
    private readonly IDisposable? _owned;

    public FrugalChatClient(InferenceEngine engine, ChatTemplate template, string modelId = "frugal")
        : this(engine, template, modelId, null)
    {
    }

    private FrugalChatClient(InferenceEngine engine, ChatTemplate template, string modelId, IDisposable? owned)
    {
        _engine = engine ?? throw new ArgumentNullException(nameof(engine));
        _template = template ?? throw new ArgumentNullException(nameof(template));
        _owned = owned;
        Metadata = new ChatClientMetadata("frugal", defaultModelId: modelId);
    }

    public ChatClientMetadata Metadata { get; }

    /// <summary>Loads a GGUF file with a chat template and serves it through a new engine the client owns.</summary>
    /// <exception cref="ArgumentException">the file has no tokenizer.chat_template.</exception>
    public static FrugalChatClient Load(string path, EngineOptions? options = null, ModelLoadOptions? loadOptions = null)
    {
        Tokenizer tokenizer;
        ChatTemplate template;
        using (var file = GgufFile.Open(path))
        {
            tokenizer = Tokenizer.FromGguf(file);
            template = ChatTemplate.FromGguf(file) ?? throw new ArgumentException($"{path} has no tokenizer.chat_template", nameof(path));
        }
        var model = ModelLoader.Load(path, loadOptions);
        InferenceEngine engine;
        try
        {
            engine = new InferenceEngine(model, tokenizer, options);
        }
        catch
        {
            model.Dispose(); // refused options (a KV type the head size cannot hold) must not leak the mapped file
            throw;
        }
        return new FrugalChatClient(engine, template, Path.GetFileNameWithoutExtension(path), new Owned(engine, model));
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var stream = Submit(messages, options, cancellationToken);
        var result = await stream.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return new ChatResponse(new AiChatMessage(ChatRole.Assistant, result.Text))
        {
            FinishReason = Reason(result.Finished.Reason),
            ModelId = Metadata.DefaultModelId,
            ResponseId = $"frugal-{stream.Id}",
            CreatedAt = DateTimeOffset.UtcNow,
            Usage = Usage(result.Finished),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = Submit(messages, options, cancellationToken);
        string id = $"frugal-{stream.Id}";
        await foreach (var e in stream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case EngineToken t when t.Text.Length > 0:
                    yield return new ChatResponseUpdate(ChatRole.Assistant, t.Text) { ResponseId = id, ModelId = Metadata.DefaultModelId };
                    break;
                case EngineFinished f:
                    var last = new ChatResponseUpdate(ChatRole.Assistant, f.Text.Length > 0 ? f.Text : null)
                    {
                        ResponseId = id,
                        ModelId = Metadata.DefaultModelId,
                        FinishReason = Reason(f.Reason),
                    };
                    last.Contents.Add(new UsageContent(Usage(f)));
                    yield return last;
                    break;
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return Metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType == typeof(InferenceEngine)) return _engine;
        return null;
    }

    private EngineStream Submit(IEnumerable<AiChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var turns = messages.Select(m => new TemplateMessage(m.Role.Value, m.Text)).ToList();
        if (turns.Count == 0) throw new ArgumentException("a chat needs at least one message", nameof(messages));
        var defaults = new SamplingOptions();
        var request = new EngineRequest
        {
            PromptTokens = ChatPrompt.Tokens(_engine.Tokenizer, _template, turns),
            MaxTokens = options?.MaxOutputTokens,
            StopStrings = options?.StopSequences?.ToList() ?? [],
            Grammar = Grammar(options?.ResponseFormat),
            Sampling = new SamplingOptions
            {
                Temperature = options?.Temperature ?? defaults.Temperature,
                TopP = options?.TopP ?? defaults.TopP,
                TopK = options?.TopK ?? defaults.TopK,
                PresencePenalty = options?.PresencePenalty ?? 0,
                FrequencyPenalty = options?.FrequencyPenalty ?? 0,
                Seed = options?.Seed is long seed ? unchecked((ulong)seed) : null,
            },
        };
        return _engine.Submit(request, cancellationToken);
    }

    /// <summary>ChatResponseFormat.Json (any object) or ForJsonSchema (compiled; an unsupported keyword throws
    /// <see cref="Constraints.JsonSchemaException"/> naming it); text leaves the output free.</summary>
    private static Constraints.GbnfGrammar? Grammar(ChatResponseFormat? format) => format switch
    {
        ChatResponseFormatJson { Schema: System.Text.Json.JsonElement schema } => Constraints.JsonSchemaGrammar.Compile(schema),
        ChatResponseFormatJson => Constraints.JsonGrammar.Object,
        _ => null,
    };

    private static ChatFinishReason Reason(EngineFinishReason reason) => reason == EngineFinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;

    private static UsageDetails Usage(EngineFinished f) => new()
    {
        InputTokenCount = f.PromptTokens,
        OutputTokenCount = f.CompletionTokens,
        TotalTokenCount = f.PromptTokens + f.CompletionTokens,
        CachedInputTokenCount = f.CachedPromptTokens,
    };

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
