using System.Text.Json;
using System.Text.Json.Serialization;

namespace Frugal.Server.Protocol;

/// <summary>Body of POST /v1/chat/completions (the fields Frugal reads; others are ignored).</summary>
public sealed class ChatCompletionRequest : SamplingFields
{
    public List<ChatMessageDto>? Messages { get; set; }

    public int? MaxCompletionTokens { get; set; }

    public bool? Logprobs { get; set; }

    public int? TopLogprobs { get; set; }

    /// <summary>Functions the model may call; read by <see cref="ChatTools"/>.</summary>
    public List<ToolDto?>? Tools { get; set; }

    /// <summary>"none", "auto", "required" or {"type":"function","function":{"name":...}}.</summary>
    public JsonElement? ToolChoice { get; set; }

    public bool? ParallelToolCalls { get; set; }
}

public sealed class ToolDto
{
    public string? Type { get; set; }
    public FunctionDto? Function { get; set; }
}

public sealed class FunctionDto
{
    public string? Name { get; set; }
    public string? Description { get; set; }
    public JsonElement? Parameters { get; set; }

    /// <summary>Accepted either way: a forced call always follows the schema exactly, an auto call is parsed as written.</summary>
    public bool? Strict { get; set; }
}

/// <summary>A call in an assistant message sent back: {"id", "type":"function", "function":{"name","arguments"}}.</summary>
public sealed class ToolCallDto
{
    public string? Id { get; set; }
    public string? Type { get; set; }
    public FunctionCallDto? Function { get; set; }
}

public sealed class FunctionCallDto
{
    public string? Name { get; set; }

    /// <summary>The arguments as JSON text (OpenAI's form).</summary>
    public string? Arguments { get; set; }
}

/// <summary>Body of POST /v1/completions.</summary>
public sealed class CompletionRequest : SamplingFields
{
    /// <summary>A string, an array of strings, an array of token ids, or an array of token-id arrays (OpenAI's four forms).</summary>
    [JsonConverter(typeof(PromptConverter))]
    public List<CompletionPrompt>? Prompt { get; set; }

    /// <summary>Prepend the prompt's text to each choice's text.</summary>
    public bool? Echo { get; set; }

    /// <summary>Legacy logprobs: how many alternatives per token (0..5); null for none.</summary>
    public int? Logprobs { get; set; }
}

/// <summary>Fields both endpoints share.</summary>
public abstract class SamplingFields
{
    public string? Model { get; set; }
    public int? MaxTokens { get; set; }
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? TopK { get; set; }
    public float? MinP { get; set; }

    /// <summary>llama.cpp's name; <see cref="RepetitionPenalty"/> is vLLM's for the same thing.</summary>
    public float? RepeatPenalty { get; set; }
    public float? RepetitionPenalty { get; set; }
    public int? RepeatLastN { get; set; }

    /// <summary>Token id (as a string, OpenAI's form) to a bias in [-100, 100] added to its logit.</summary>
    public Dictionary<string, float>? LogitBias { get; set; }
    public long? Seed { get; set; }

    /// <summary>A string or an array of up to 4 strings.</summary>
    [JsonConverter(typeof(StringOrArrayConverter))]
    public List<string>? Stop { get; set; }

    public int? N { get; set; }
    public float? PresencePenalty { get; set; }
    public float? FrequencyPenalty { get; set; }
    public bool? Stream { get; set; }
    public StreamOptionsDto? StreamOptions { get; set; }

    // Frugal's and llama.cpp's extensions: KV budget and eviction policy, context shift, ignore_eos.
    public int? KvBudget { get; set; }
    public string? KvPolicy { get; set; }
    public int? KvSinks { get; set; }
    public bool? ContextShift { get; set; }
    public int? NKeep { get; set; }
    public bool? IgnoreEos { get; set; }

    /// <summary>llama.cpp's extension: a GBNF grammar the output must follow.</summary>
    public string? Grammar { get; set; }

    /// <summary>{"type":"text"}, {"type":"json_object"} or {"type":"json_schema","json_schema":{"schema":...}}; read by
    /// <see cref="ResponseGrammar"/>, which refuses what it cannot honour.</summary>
    public JsonElement? ResponseFormat { get; set; }

    /// <summary>Frugal's vote extension: vote over the n choices and report the answer and its counts (see <see cref="AnswerVoting"/>).</summary>
    public VoteDto? Vote { get; set; }

    /// <summary>Every field this class does not name; <see cref="RefusedFields"/> looks here for the ones we cannot honour.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? OtherFields { get; set; }
}

/// <summary>
/// The vote extension's request object: <c>pattern</c> (a .NET regular expression; a choice's answer is its first
/// match's group 1, or the whole match without groups; no match: the choice abstains; no pattern: the whole text,
/// trimmed) and <c>method</c> (<c>majority</c>, the default, or <c>best_logprob</c>: the answer of the choice with the
/// highest mean token log-probability).
/// </summary>
public sealed class VoteDto
{
    public string? Pattern { get; set; }
    public string? Method { get; set; }
}

public sealed class StreamOptionsDto
{
    public bool? IncludeUsage { get; set; }
}

public sealed class ChatMessageDto
{
    public string? Role { get; set; }

    /// <summary>A string, or an array of content parts of which the text parts are joined.</summary>
    [JsonConverter(typeof(ContentConverter))]
    public string? Content { get; set; }

    /// <summary>An assistant message's calls.</summary>
    public List<ToolCallDto?>? ToolCalls { get; set; }

    /// <summary>A tool message's answer to this call.</summary>
    public string? ToolCallId { get; set; }

    /// <summary>A tool message's function name.</summary>
    public string? Name { get; set; }
}

/// <summary>Reads "x" or ["x", "y"] as a list.</summary>
public sealed class StringOrArrayConverter : JsonConverter<List<string>>
{
    public override List<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return [reader.GetString()!];
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected a string or an array of strings");
        var list = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String) throw new JsonException("expected a string or an array of strings");
            list.Add(reader.GetString()!);
        }
        return list;
    }

    public override void Write(Utf8JsonWriter writer, List<string> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, options);
}

/// <summary>Reads message content given as a string or as [{"type":"text","text":...}, ...].</summary>
public sealed class ContentConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("message content must be a string or an array of content parts");
        using var parts = JsonDocument.ParseValue(ref reader);
        var text = new System.Text.StringBuilder();
        foreach (var part in parts.RootElement.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                throw new JsonException("only text content parts ({\"type\":\"text\",\"text\":...}) are supported");
            text.Append(t.GetString());
        }
        return text.ToString();
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
