using System.Text.Json;
using Json.Schema;

namespace Frugal.Tests.Server;

public sealed class GrammarServer : IAsyncLifetime
{
    public ServerHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() => Harness = await ServerHarness.StartAsync(o => o with { ContextLength = 512 });

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>grammar and response_format over real HTTP: honoured exactly, or refused with a 400 that names the problem.</summary>
public class ServerGrammarTests(GrammarServer shared) : IClassFixture<GrammarServer>
{
    private readonly ServerHarness _h = shared.Harness;

    private const string Schema = """{"type":"object","properties":{"city":{"type":"string","maxLength":8},"rank":{"type":"integer"},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":3},"open":{"type":["boolean","null"]}},"required":["city","rank"],"additionalProperties":false}""";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Chat_json_schema_output_validates(int seed)
    {
        var (status, body) = await _h.PostAsync("v1/chat/completions", $$$"""
            {"messages":[{"role":"user","content":"a city"}],"max_tokens":190,"temperature":1,"seed":{{{seed}}},
             "response_format":{"type":"json_schema","json_schema":{"name":"city","strict":true,"schema":{{{Schema}}} } } }
            """);
        Assert.True(status == 200, body.ToString());
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        string content = choice.GetProperty("message").GetProperty("content").GetString()!;
        using var doc = JsonDocument.Parse(content);
        var result = JsonSchema.FromText(Schema).Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, content);
    }

    [Fact]
    public async Task Completion_grammar_field_is_followed_when_streaming_too()
    {
        using var response = await _h.Http.PostAsync("v1/completions", ServerHarness.Json("""
            {"prompt":"hi","max_tokens":50,"temperature":1,"seed":7,"stream":true,"grammar":"root ::= (\"yes\" | \"no\") \", \" [0-9]{1,3}"}
            """));
        Assert.Equal(200, (int)response.StatusCode);
        string sse = await response.Content.ReadAsStringAsync();
        string text = string.Concat(sse.Split('\n')
            .Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l[6..]).RootElement.GetProperty("choices"))
            .Where(c => c.GetArrayLength() > 0)
            .Select(c => c[0].GetProperty("text").GetString()));
        Assert.Matches("^(yes|no), [0-9]{1,3}$", text);
    }

    [Fact]
    public async Task Json_object_format_gives_an_object_or_a_valid_prefix_at_the_limit()
    {
        var (status, body) = await _h.PostAsync("v1/chat/completions", """
            {"messages":[{"role":"user","content":"json"}],"max_tokens":60,"temperature":0,"response_format":{"type":"json_object"}}
            """);
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        string content = choice.GetProperty("message").GetProperty("content").GetString()!;
        Assert.StartsWith("{", content);
        if (choice.GetProperty("finish_reason").GetString() == "stop")
            Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(content).RootElement.ValueKind);
    }

    [Theory]
    [InlineData("""{"type":"json_schema","json_schema":{"schema":{"type":"string","pattern":"^(x)\\1$"}}}""", "'pattern'")]
    [InlineData("""{"type":"json_schema","json_schema":{"schema":{"type":"integer","multipleOf":2}}}""", "'multipleOf'")]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"x"}}""", "needs a 'schema'")]
    [InlineData("""{"type":"json_schema"}""", "needs a 'json_schema' object")]
    [InlineData("""{"type":"xml"}""", "type 'xml' is not supported")]
    [InlineData("""{"type":3}""", "must be an object with a string 'type'")]
    [InlineData("\"json\"", "must be an object with a string 'type'")]
    public async Task Unsupported_response_format_is_a_400_that_names_it(string format, string message)
    {
        var (status, body) = await _h.PostAsync("v1/chat/completions", $$$"""
            {"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"response_format":{{{format}}} }
            """);
        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal("response_format", error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("""{"prompt":"hi","grammar":"root ::= \"a"}""", "grammar", "line 1, column 10: unterminated string literal")]
    [InlineData("""{"prompt":"hi","grammar":"root ::= root \"a\""}""", "grammar", "left recursive")]
    [InlineData("""{"prompt":"hi","grammar":"root ::= \"a\"","response_format":{"type":"json_object"}}""", "grammar", "not both")]
    public async Task Bad_grammar_is_a_400_with_line_and_column(string json, string param, string message)
    {
        var (status, body) = await _h.PostAsync("v1/completions", json);
        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Text_response_format_leaves_output_free()
    {
        var (status, _) = await _h.PostAsync("v1/chat/completions", """
            {"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"response_format":{"type":"text"}}
            """);
        Assert.Equal(200, status);
    }
}
