using System.Text.Json.Serialization;

namespace Frugal.Server.Protocol;

/// <summary>Body of POST /v1/embeddings.</summary>
public sealed class EmbeddingRequest
{
    public string? Model { get; set; }

    /// <summary>A string, an array of strings, an array of token ids, or an array of token-id arrays (one embedding each).</summary>
    [JsonConverter(typeof(PromptConverter))]
    public List<CompletionPrompt>? Input { get; set; }

    /// <summary>"float" (default) or "base64" (little-endian float32 bytes).</summary>
    public string? EncodingFormat { get; set; }

    /// <summary>Refused unless it is the model's own width: the vectors are not truncated.</summary>
    public int? Dimensions { get; set; }
}

public sealed record EmbeddingList(IReadOnlyList<EmbeddingData> Data, string Model, EmbeddingUsage Usage)
{
    public string Object => "list";
}

/// <param name="Embedding">a float array, or a base64 string.</param>
public sealed record EmbeddingData(int Index, object Embedding)
{
    public string Object => "embedding";
}

public sealed record EmbeddingUsage(int PromptTokens, int TotalTokens);
