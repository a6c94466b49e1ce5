using System.Text.Json;
using Frugal.Inference.Constraints;

namespace Frugal.Server.Protocol;

/// <summary>
/// The grammar a request asks for: llama.cpp's <c>grammar</c> (GBNF text) or OpenAI's <c>response_format</c>
/// (<c>json_object</c>, or <c>json_schema</c> compiled to GBNF). Anything it cannot honour is a 400 that names the
/// field and the problem, never ignored.
/// </summary>
internal static class ResponseGrammar
{
    public static GbnfGrammar? From(SamplingFields body)
    {
        var format = Format(body.ResponseFormat);
        if (body.Grammar is not null && format is not null)
            throw ApiError.BadRequest("give either grammar or a JSON response_format, not both", "grammar");
        if (body.Grammar is string gbnf)
        {
            try { return GbnfGrammar.Parse(gbnf); }
            catch (GrammarFormatException e) { throw ApiError.BadRequest(e.Message, "grammar"); }
        }
        return format;
    }

    private static GbnfGrammar? Format(JsonElement? element)
    {
        if (element is not JsonElement f || f.ValueKind == JsonValueKind.Null) return null;
        if (f.ValueKind != JsonValueKind.Object || !f.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw ApiError.BadRequest("response_format must be an object with a string 'type' (text, json_object or json_schema)", "response_format");
        switch (type.GetString())
        {
            case "text":
                return null;
            case "json_object":
                return JsonGrammar.Object;
            case "json_schema":
                if (!f.TryGetProperty("json_schema", out var js) || js.ValueKind != JsonValueKind.Object)
                    throw ApiError.BadRequest("response_format of type json_schema needs a 'json_schema' object", "response_format");
                if (js.TryGetProperty("strict", out var strict) && strict.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
                    throw ApiError.BadRequest("response_format.json_schema.strict must be a boolean", "response_format");
                if (!js.TryGetProperty("schema", out var schema))
                    throw ApiError.BadRequest("response_format.json_schema needs a 'schema'", "response_format");
                // strict or not, the grammar is followed exactly: a schema is either honoured whole or refused.
                try { return JsonSchemaGrammar.Compile(schema); }
                catch (JsonSchemaException e) { throw ApiError.BadRequest($"response_format.json_schema.schema: {e.Message}", "response_format"); }
                catch (GrammarFormatException e) { throw ApiError.BadRequest($"response_format.json_schema.schema: {e.Message}", "response_format"); }
            case var other:
                throw ApiError.BadRequest($"response_format type '{other}' is not supported (text, json_object or json_schema)", "response_format");
        }
    }
}
