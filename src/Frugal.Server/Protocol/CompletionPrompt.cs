using System.Text.Json;
using System.Text.Json.Serialization;

namespace Frugal.Server.Protocol;

/// <summary>One prompt of /v1/completions: text to tokenize, or token ids taken as they are.</summary>
public sealed record CompletionPrompt(string? Text, int[]? Tokens);

/// <summary>
/// Reads OpenAI's four prompt forms: "text", ["text", ...], [1, 2, 3] (one prompt of token ids) and [[1, 2], [3]]
/// (one prompt per inner array). Any other shape is a <see cref="JsonException"/> saying which forms are accepted.
/// </summary>
public sealed class PromptConverter : JsonConverter<List<CompletionPrompt>>
{
    private const string Expected = "prompt must be a string, an array of strings, an array of token ids or an array of token-id arrays";

    public override List<CompletionPrompt>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return [new CompletionPrompt(reader.GetString()!, null)];
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException(Expected);
        var prompts = new List<CompletionPrompt>();
        List<int>? tokens = null; // the ids of a flat [1, 2, 3] prompt
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String when tokens is null:
                    prompts.Add(new CompletionPrompt(reader.GetString()!, null));
                    break;
                case JsonTokenType.Number when prompts.Count == 0:
                    (tokens ??= []).Add(TokenId(ref reader));
                    break;
                case JsonTokenType.StartArray when tokens is null:
                    var inner = new List<int>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.Number) throw new JsonException(Expected);
                        inner.Add(TokenId(ref reader));
                    }
                    prompts.Add(new CompletionPrompt(null, [.. inner]));
                    break;
                default:
                    throw new JsonException(Expected);
            }
        }
        if (tokens is not null) prompts.Add(new CompletionPrompt(null, [.. tokens]));
        return prompts;
    }

    private static int TokenId(ref Utf8JsonReader reader) =>
        reader.TryGetInt32(out int id) ? id : throw new JsonException("prompt token ids must be integers");

    public override void Write(Utf8JsonWriter writer, List<CompletionPrompt> value, JsonSerializerOptions options) =>
        throw new NotSupportedException("prompts are only read");
}
