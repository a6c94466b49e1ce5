using System.Text.Json;

namespace Frugal.Server.Protocol;

/// <summary>
/// Request fields the server knows but cannot honour yet. Unknown fields are ignored, as OpenAI does; these are
/// refused with a 400 that names the field, because ignoring them would let the client believe it got what it asked
/// for (a JSON answer, a tool call). One row per field: making a feature work means deleting its row.
/// </summary>
internal static class RefusedFields
{
    /// <param name="Field">the JSON name.</param>
    /// <param name="Honoured">the values that ask for nothing we lack (null, an empty list, the default).</param>
    /// <param name="Why">what the refusal says is missing.</param>
    private sealed record Rule(string Field, Func<JsonElement, bool> Honoured, string Why);

    private static readonly Rule[] Rules =
    [
        // Chat completions read tools and tool_choice; on /v1/completions (no chat template, no tool format) they land here.
        new("tools", v => IsNullOr(v, JsonValueKind.Array, e => e.GetArrayLength() == 0), "tools are read on /v1/chat/completions only"),
        new("tool_choice", v => IsNullOr(v, JsonValueKind.String, e => Is(e, "none") || Is(e, "auto")), "tools are read on /v1/chat/completions only"),
        // OpenAI's deprecated form of tools; send tools and tool_choice instead.
        new("functions", v => IsNullOr(v, JsonValueKind.Array, e => e.GetArrayLength() == 0), "the legacy functions field is not supported; send tools"),
        new("function_call", v => IsNullOr(v, JsonValueKind.String, e => Is(e, "none") || Is(e, "auto")), "the legacy function_call field is not supported; send tool_choice"),
        new("json_schema", v => v.ValueKind == JsonValueKind.Null, "a top-level json_schema is not read: send response_format {\"type\":\"json_schema\",\"json_schema\":{\"schema\":...}}"),
        new("suffix", v => IsNullOr(v, JsonValueKind.String, e => Is(e, "")), "insertion (text after the completion) is not supported"),
        new("best_of", v => IsNullOr(v, JsonValueKind.Number, e => e.TryGetInt32(out int n) && n == 1), "best_of above 1 is not supported; ask for n choices instead"),
        new("audio", v => v.ValueKind == JsonValueKind.Null, "audio output is not supported"),
        new("prediction", v => v.ValueKind == JsonValueKind.Null, "predicted outputs are not supported"),
    ];

    /// <summary>The names of the refused fields, for documentation and tests.</summary>
    public static IEnumerable<string> Names => Rules.Select(r => r.Field);

    /// <exception cref="ApiError">400 naming the first refused field the body sets.</exception>
    public static void Check(SamplingFields body)
    {
        if (body.OtherFields is not { Count: > 0 } other) return;
        foreach (var rule in Rules)
            if (other.TryGetValue(rule.Field, out var value) && !rule.Honoured(value))
                throw ApiError.BadRequest($"{rule.Field} cannot be honoured by this server: {rule.Why}", rule.Field);
    }

    /// <summary>Whether <paramref name="value"/> is the string <paramref name="text"/>; false for a string that is not valid UTF-16 ("\ud800").</summary>
    private static bool Is(JsonElement value, string text)
    {
        if (value.ValueKind != JsonValueKind.String) return false;
        try
        {
            return value.ValueEquals(text);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool IsNullOr(JsonElement value, JsonValueKind kind, Func<JsonElement, bool> honoured) =>
        value.ValueKind == JsonValueKind.Null || (value.ValueKind == kind && honoured(value));
}
