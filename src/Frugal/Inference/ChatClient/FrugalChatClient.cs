using System.Runtime.CompilerServices;
using Frugal.Gguf;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Inference.Tools;
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
        var (stream, tools) = Submit(messages, options, cancellationToken);
        var result = await stream.CompleteAsync(cancellationToken).ConfigureAwait(false);
        var reply = new AiChatMessage(ChatRole.Assistant, result.Text);
        var finish = Reason(result.Finished.Reason);
        if (tools?.Parse(result.Text) is { Calls.Count: > 0 } parsed)
        {
            reply = new AiChatMessage(ChatRole.Assistant, [.. ToolContents(parsed.Content, parsed.Calls)]);
            finish = ChatFinishReason.ToolCalls;
        }
        return new ChatResponse(reply)
        {
            FinishReason = finish,
            ModelId = Metadata.DefaultModelId,
            ResponseId = $"frugal-{stream.Id}",
            CreatedAt = DateTimeOffset.UtcNow,
            Usage = Usage(result.Finished),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (stream, tools) = Submit(messages, options, cancellationToken);
        var filter = tools?.Stream();
        string id = $"frugal-{stream.Id}";
        await foreach (var e in stream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case EngineToken t when t.Text.Length > 0:
                    string text = filter?.Push(t.Text) ?? t.Text;
                    if (text.Length > 0)
                        yield return new ChatResponseUpdate(ChatRole.Assistant, text) { ResponseId = id, ModelId = Metadata.DefaultModelId };
                    break;
                case EngineFinished f:
                    string tail = filter?.Push(f.Text) ?? f.Text;
                    IReadOnlyList<ToolCall> calls = [];
                    if (filter is not null)
                    {
                        (string held, calls) = filter.Finish();
                        tail += held;
                    }
                    var last = new ChatResponseUpdate(ChatRole.Assistant, [.. ToolContents(tail, calls)])
                    {
                        ResponseId = id,
                        ModelId = Metadata.DefaultModelId,
                        FinishReason = calls.Count > 0 ? ChatFinishReason.ToolCalls : Reason(f.Reason),
                    };
                    last.Contents.Add(new UsageContent(Usage(f)));
                    yield return last;
                    break;
            }
        }
    }

    /// <summary>The reply's text (when any) and a <see cref="FunctionCallContent"/> per call, arguments parsed from JSON.</summary>
    private static IEnumerable<AIContent> ToolContents(string text, IReadOnlyList<ToolCall> calls)
    {
        if (text.Length > 0) yield return new TextContent(text);
        foreach (var call in calls)
            yield return FunctionCallContent.CreateFromParsedArguments(call.Arguments, call.Id, call.Name,
                json => System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, object?>>(json));
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

    private (EngineStream Stream, ToolCalling? Tools) Submit(IEnumerable<AiChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var turns = messages.SelectMany(Turns).ToList();
        if (turns.Count == 0) throw new ArgumentException("a chat needs at least one message", nameof(messages));
        var tools = Tools(options);
        var grammar = Grammar(options?.ResponseFormat);
        if (tools?.Grammar is not null)
        {
            if (grammar is not null) throw new ArgumentException("a required tool call cannot be combined with a JSON response format", nameof(options));
            grammar = tools.Grammar;
        }
        var defaults = new SamplingOptions();
        var request = new EngineRequest
        {
            PromptTokens = ChatPrompt.Tokens(_engine.Tokenizer, _template, turns, tools?.TemplateVariables),
            MaxTokens = options?.MaxOutputTokens,
            StopStrings = options?.StopSequences?.ToList() ?? [],
            Grammar = grammar,
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
        return (_engine.Submit(request, cancellationToken), tools);
    }

    /// <summary>
    /// A message as template turns: function calls become an assistant turn with tool_calls, each function result
    /// its own tool turn (as OpenAI sends them), anything else a plain turn of its text.
    /// </summary>
    private static IEnumerable<TemplateMessage> Turns(AiChatMessage m)
    {
        var calls = m.Contents.OfType<FunctionCallContent>().ToList();
        var results = m.Contents.OfType<FunctionResultContent>().ToList();
        if (calls.Count > 0)
            yield return ToolMessages.Assistant(m.Text, [.. calls.Select(c => new ToolCall(c.CallId, c.Name,
                System.Text.Json.JsonSerializer.Serialize(c.Arguments ?? new Dictionary<string, object?>())))]);
        foreach (var r in results)
            yield return ToolMessages.Result(r.CallId, null, r.Result switch
            {
                null => "",
                string text => text,
                var value => System.Text.Json.JsonSerializer.Serialize(value),
            });
        if (calls.Count == 0 && results.Count == 0)
            yield return new TemplateMessage(m.Role.Value, m.Text);
    }

    /// <summary>ChatOptions.Tools (function declarations) and ToolMode as a tool plan; null when no tool may be called.</summary>
    /// <exception cref="ToolCallingException">the template renders no tools, or the required function is not declared.</exception>
    private ToolCalling? Tools(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } declared) return null;
        var tools = declared.Select(t => t is AIFunctionDeclaration f
            ? new ToolDefinition(f.Name, string.IsNullOrEmpty(f.Description) ? null : f.Description, f.JsonSchema)
            : throw new NotSupportedException($"tool '{t.Name}' is a {t.GetType().Name}; only function tools can be called")).ToList();
        var choice = options.ToolMode switch
        {
            NoneChatToolMode => ToolChoice.None,
            RequiredChatToolMode { RequiredFunctionName: string name } => ToolChoice.Function(name),
            RequiredChatToolMode => ToolChoice.Required,
            _ => ToolChoice.Auto,
        };
        return ToolCalling.Create(_template, tools, choice, options.AllowMultipleToolCalls ?? true);
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
