using System.Text.Json;
using Frugal.Inference.Constraints;

namespace Frugal.Tests.Constraints;

public class JsonSchemaGrammarTests
{
    private static GbnfGrammar Compile(string schema) => JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement);

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]}""", """{"a": 1}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]}""", """{"a": 1, "b": "x"}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]}""", """{"b": "x"}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]}""", """{"b": "x", "a": 1}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}}}""", """{}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}}}""", """{"b":"q"}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}}}""", """{"a":1,}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true}""", """{"a":1,"z":2}""", false)]
    [InlineData("""{"type":"object","additionalProperties":{"type":"boolean"}}""", """{"p":true,"q":false}""", true)]
    [InlineData("""{"type":"object","additionalProperties":{"type":"boolean"}}""", """{"p":1}""", false)]
    [InlineData("""{"type":"object","additionalProperties":false}""", """{}""", true)]
    [InlineData("""{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}""", """[]""", false)]
    [InlineData("""{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}""", """[1, 2]""", true)]
    [InlineData("""{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}""", """[1, 2, 3]""", false)]
    [InlineData("""{"type":"array","items":{"type":"integer"}}""", """[]""", true)]
    [InlineData("""{"enum":["a",1,null,{"k":[true]}]}""", """{"k":[true]}""", true)]
    [InlineData("""{"enum":["a",1,null,{"k":[true]}]}""", """2""", false)]
    [InlineData("""{"const":"line\nbreak \"q\""}""", "\"line\\nbreak \\\"q\\\"\"", true)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"ab\"", true)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"a\"", false)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"a\\\"b\"", true)]
    [InlineData("""{"type":"string","minLength":2,"maxLength":3}""", "\"abcd\"", false)]
    [InlineData("""{"type":["integer","null"]}""", "null", true)]
    [InlineData("""{"type":["integer","null"]}""", "-12", true)]
    [InlineData("""{"type":["integer","null"]}""", "1.5", false)]
    [InlineData("""{"type":"number"}""", "-1.5e10", true)]
    [InlineData("""{"type":"boolean"}""", "true", true)]
    [InlineData("""{"anyOf":[{"type":"integer"},{"type":"string","maxLength":1}]}""", "\"x\"", true)]
    [InlineData("""{"oneOf":[{"type":"integer"},{"type":"string","maxLength":1}]}""", "\"xy\"", false)]
    [InlineData("""{"allOf":[{"type":"integer"}]}""", "3", true)]
    [InlineData("""{"type":"string","format":"date"}""", "\"2024-02-28\"", true)]
    [InlineData("""{"type":"string","format":"date"}""", "\"2024-02-30\"", false)]
    [InlineData("""{"type":"string","format":"uuid"}""", "\"123e4567-e89b-12d3-a456-426614174000\"", true)]
    [InlineData("""{"type":"string","format":"date-time"}""", "\"2024-05-01T12:30:00Z\"", true)]
    [InlineData("""{"$defs":{"n":{"type":"object","properties":{"k":{"type":"array","items":{"$ref":"#/$defs/n"}}},"required":["k"]}},"$ref":"#/$defs/n"}""", """{"k":[{"k":[]},{"k":[{"k":[]}]}]}""", true)]
    [InlineData("""{"$defs":{"n":{"type":"object","properties":{"k":{"type":"array","items":{"$ref":"#/$defs/n"}}},"required":["k"]}},"$ref":"#/$defs/n"}""", """{"k":[{}]}""", false)]
    [InlineData("""{"definitions":{"a b":{"type":"integer"}},"type":"array","items":{"$ref":"#/definitions/a%20b"}}""", "[1,2]", true)]
    [InlineData("""{"title":"t","description":"d","$schema":"https://json-schema.org/draft/2020-12/schema"}""", """{"any":[1,"thing"]}""", true)]
    [InlineData("true", "[null]", true)]
    [InlineData("""{"allOf":[{"type":"integer"},{"type":"number"}]}""", "3", true)]
    [InlineData("""{"allOf":[{"type":"integer"},{"type":"number"}]}""", "3.5", false)]
    [InlineData("""{"definitions":{"b":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}},"allOf":[{"$ref":"#/definitions/b"},{"properties":{"c":{"type":"boolean"}},"required":["c"]}]}""", """{"a":1,"c":true}""", true)]
    [InlineData("""{"definitions":{"b":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}},"allOf":[{"$ref":"#/definitions/b"},{"properties":{"c":{"type":"boolean"}},"required":["c"]}]}""", """{"a":1}""", false)]
    [InlineData("""{"allOf":[{"properties":{"a":{"type":"integer"},"b":{}},"additionalProperties":false},{"properties":{"c":{}}}]}""", """{"c":1}""", false)]
    [InlineData("""{"type":"object","properties":{"k":{"type":"string"}},"anyOf":[{"required":["k"]},{"properties":{"n":{"type":"null"}},"required":["n"]}]}""", """{"k":"v"}""", true)]
    [InlineData("""{"oneOf":[{"properties":{"t":{"const":"a"},"v":{"type":"integer"}},"required":["t"]},{"properties":{"t":{"const":"b"}},"required":["t"]}]}""", """{"t":"a","v":1}""", true)]
    [InlineData("""{"definitions":{"o":{"type":"object","properties":{"a":{},"b":{}},"required":["a"]}},"allOf":[{"$ref":"#/definitions/o"},{"not":{"required":["a","b"]}}]}""", """{"a":1,"b":2}""", false)]
    [InlineData("""{"definitions":{"o":{"type":"object","properties":{"a":{},"b":{}},"required":["a"]}},"allOf":[{"$ref":"#/definitions/o"},{"not":{"required":["a","b"]}}]}""", """{"a":1}""", true)]
    [InlineData("""{"type":"array","uniqueItems":true}""", "[1]", true)]
    [InlineData("""{"type":"array","uniqueItems":true}""", "[1,2]", false)]
    [InlineData("""{"type":"string"}""", "\"\\ud83d\"", false)]
    [InlineData("""{"type":"string"}""", "\"\\ude00\"", false)]
    [InlineData("""{"type":"string"}""", "\"\\uD83D\\uDE00\"", true)]
    [InlineData("""{"type":"string"}""", "\"\\u00e9\\uFFFD\"", true)]
    [InlineData("""{"type":["string","null"],"enum":["a",null,3]}""", "3", false)]
    [InlineData("""{"type":["string","null"],"enum":["a",null,3]}""", "null", true)]
    [InlineData("""{"type":"string","format":"uri"}""", "\"https://api.github.com/repos/x\"", true)]
    [InlineData("""{"type":"string","format":"email"}""", "\"octo.cat@github.com\"", true)]
    [InlineData("""{"type":"string","format":"email"}""", "\"octocat\"", false)]
    [InlineData("""{"type":"integer","tsAdditionalProperties":false,"x-vendor":{"a":1}}""", "7", true)]
    public void Grammar_accepts_what_the_schema_allows(string schema, string json, bool accepted)
    {
        Assert.Equal(accepted, GrammarText.Accepts(Compile(schema), json));
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^(a)\\1$"}""", "pattern")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"number","multipleOf":2}}}""", "multipleOf")]
    [InlineData("""{"type":"object","minProperties":2}""", "minProperties")]
    [InlineData("""{"type":"array","prefixItems":[{"type":"integer"}]}""", "prefixItems")]
    [InlineData("""{"type":"array","uniqueItems":true,"minItems":2}""", "uniqueItems")]
    [InlineData("""{"oneOf":[{"type":"object","required":["k"]},{"type":"object","required":["n"]}]}""", "oneOf")]
    [InlineData("""{"allOf":[{"type":"string","format":"date"},{"format":"uuid"}]}""", "format")]
    [InlineData("""{"type":"string","format":"ipv6"}""", "format")]
    [InlineData("""{"allOf":[{"type":"integer"},{"not":{"const":1}}]}""", "not")]
    [InlineData("""{"$ref":"https://example.com/schema.json"}""", "$ref")]
    [InlineData("""{"if":{"type":"integer"},"then":{"type":"integer"}}""", "if")]
    public void Unsupported_keywords_are_refused_by_name(string schema, string keyword)
    {
        var e = Assert.Throws<JsonSchemaException>(() => Compile(schema));
        Assert.Equal(keyword, e.Keyword);
        Assert.Contains(keyword, e.Message);
    }

    [Theory]
    [InlineData("false", "accepts no value")]
    [InlineData("""{"type":"array","minItems":3,"maxItems":2}""", "no array fits")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "points at nothing")]
    [InlineData("""{"enum":[]}""", "non-empty array")]
    [InlineData("""{"type":"decimal"}""", "unknown type 'decimal'")]
    [InlineData("""{"type":"array","maxItems":-1}""", "non-negative integer")]
    public void Malformed_schemas_get_a_message_that_says_why(string schema, string message)
    {
        var e = Assert.Throws<JsonSchemaException>(() => Compile(schema));
        Assert.Contains(message, e.Message);
    }
}
