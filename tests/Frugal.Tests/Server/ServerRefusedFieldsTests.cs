using System.Text.Json;

namespace Frugal.Tests.Server;

/// <summary>
/// Fields the server cannot honour are a 400 naming the field; their harmless values and unknown fields pass; every
/// other /v1 path answers with an OpenAI error object; bodies the fuzzer once broke are 400s.
/// </summary>
public class ServerRefusedFieldsTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly ServerHarness _h = shared.Harness;

    private const string Chat = """{"messages":[{"role":"user","content":"hi"}],"max_tokens":1""";
    private const string Text = """{"prompt":"hi","max_tokens":1""";

    private static void AssertError(JsonElement body, string? param = null)
    {
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("type").GetString()));
        if (param is not null) Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("tools", """[{"type":"function","function":{"name":"f","parameters":{}}}]""")]
    [InlineData("tool_choice", "\"required\"")]
    [InlineData("tool_choice", """{"type":"function","function":{"name":"f"}}""")]
    [InlineData("functions", """[{"name":"f"}]""")]
    [InlineData("function_call", """{"name":"f"}""")]
    [InlineData("json_schema", "{}")]
    [InlineData("suffix", "\"after\"")]
    [InlineData("best_of", "3")]
    [InlineData("audio", """{"voice":"alloy","format":"wav"}""")]
    [InlineData("prediction", """{"type":"content","content":"x"}""")]
    public async Task A_field_we_cannot_honour_is_400_naming_it_on_both_endpoints(string field, string value)
    {
        foreach (var (path, start) in new[] { ("v1/chat/completions", Chat), ("v1/completions", Text) })
        {
            var (status, body) = await _h.PostAsync(path, $"{start},\"{field}\":{value}}}");
            Assert.True(status == 400, $"{path} {field}: {status} {body}");
            AssertError(body, field);
            Assert.Contains(field, body.GetProperty("error").GetProperty("message").GetString());
        }
    }

    [Theory]
    [InlineData("\"tools\":[]")]
    [InlineData("\"tools\":null")]
    [InlineData("\"tool_choice\":\"none\"")]
    [InlineData("\"response_format\":{\"type\":\"text\"}")]
    [InlineData("\"best_of\":1")]
    [InlineData("\"suffix\":\"\"")]
    [InlineData("\"user\":\"someone\",\"metadata\":{\"a\":1},\"some_future_field\":[1,2]")]
    public async Task Harmless_values_and_unknown_fields_are_accepted(string fields)
    {
        var (status, body) = await _h.PostAsync("v1/chat/completions", $"{Chat},{fields}}}");
        Assert.True(status == 200, body.ToString());
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[null],"max_tokens":1}""")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"},null],"max_tokens":1}""")]
    public async Task Fuzzer_regression_a_null_message_is_400_not_500(string json)
    {
        var (status, body) = await _h.PostAsync("v1/chat/completions", json);
        Assert.Equal(400, status);
        AssertError(body, "messages");
        Assert.Contains("null", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("grammar")]
    [InlineData("tool_choice")]
    [InlineData("suffix")]
    public async Task Fuzzer_regression_a_lone_surrogate_in_a_refused_field_is_400_naming_it(string field)
    {
        // "\ud800" is valid JSON but no string: reading it as one threw, and the refusal check answered 500.
        var (status, body) = await _h.PostAsync("v1/chat/completions", $"{Chat},\"{field}\":\"a\\ud800b\"}}");
        Assert.Equal(400, status);
        AssertError(body, field);
    }

    [Fact]
    public async Task Unknown_v1_paths_and_wrong_methods_answer_with_an_error_object()
    {
        var (status, body) = await _h.PostAsync("v1/images/generations", """{"prompt":"hi"}""");
        Assert.Equal(404, status);
        AssertError(body);
        Assert.Contains("/v1/images/generations", body.GetProperty("error").GetProperty("message").GetString());

        (status, body) = await _h.GetJsonAsync("v1/embeddings");
        Assert.Equal(405, status);
        AssertError(body);

        (status, body) = await _h.GetJsonAsync("v1/chat/completions");
        Assert.Equal(405, status);
        AssertError(body);
        Assert.Contains("POST", body.GetProperty("error").GetProperty("message").GetString());

        using var delete = await _h.Http.DeleteAsync("v1/models");
        Assert.Equal(405, (int)delete.StatusCode);
        AssertError(JsonDocument.Parse(await delete.Content.ReadAsStringAsync()).RootElement);
    }
}
