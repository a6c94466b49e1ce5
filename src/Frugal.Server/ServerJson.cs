using System.Text.Json;
using System.Text.Json.Serialization;

namespace Frugal.Server;

/// <summary>The JSON conventions of the OpenAI API: snake_case names, nulls left out.</summary>
public static class ServerJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.Strict,
    };
}
