using Frugal.Inference.Constraints;

namespace Frugal.Tests.Constraints;

/// <summary>oneOf compiled as alternatives only when no written value can match two branches.</summary>
public class JsonSchemaOneOfTests
{
    // OpenAPI 3.0's ParameterLocation, cut down: "in" tells the branches apart, but no branch requires it.
    private const string Location = """{"oneOf":[{"properties":{"in":{"enum":["path"]},"required":{"enum":[true]}},"required":["required"]},{"properties":{"in":{"enum":["query"]}}},{"properties":{"in":{"enum":["header","cookie"]}}}]}""";

    // octokit's webhook events: a list of event names, or exactly ["*"].
    private const string Events = """{"oneOf":[{"type":"array","items":{"type":"string","enum":["push","ping"]}},{"type":"array","items":{"type":"string","const":"*"},"minItems":1,"maxItems":1}]}""";

    // OpenAPI 2.0's parametersList items: a parameter (itself a oneOf) or a JSON reference that allows nothing else.
    private const string ParameterOrReference = """{"definitions":{"body":{"type":"object","required":["name","in"],"properties":{"name":{"type":"string"},"in":{"enum":["body"]}},"additionalProperties":false},"query":{"type":"object","required":["name","in"],"properties":{"name":{"type":"string"},"in":{"enum":["query"]}},"additionalProperties":false},"parameter":{"oneOf":[{"$ref":"#/definitions/body"},{"$ref":"#/definitions/query"}]},"reference":{"type":"object","required":["$ref"],"properties":{"$ref":{"type":"string"}},"additionalProperties":false}},"oneOf":[{"$ref":"#/definitions/parameter"},{"$ref":"#/definitions/reference"}]}""";

    // OpenAPI 2.0's response schema: a schema whose "type" is draft 4's simple types, or a file schema that requires type "file".
    private const string SchemaOrFile = """{"oneOf":[{"type":"object","properties":{"type":{"$ref":"http://json-schema.org/draft-04/schema#/properties/type"},"format":{"type":"string"}}},{"type":"object","required":["type"],"properties":{"type":{"enum":["file"]}}}]}""";

    [Theory]
    [InlineData(Location, """{"in":"path","required":true}""", true)]
    [InlineData(Location, """{"in":"query"}""", true)]
    [InlineData(Location, """{}""", false)] // would match two branches: the discriminator is written always
    [InlineData(Events, """["push","ping"]""", true)]
    [InlineData(Events, """["*"]""", true)]
    [InlineData(Events, """[]""", true)]
    [InlineData(ParameterOrReference, """{"$ref":"#/x"}""", true)]
    [InlineData(ParameterOrReference, """{"name":"id","in":"query"}""", true)]
    [InlineData(SchemaOrFile, """{"type":"file"}""", true)]
    [InlineData(SchemaOrFile, """{"type":"string"}""", true)]
    public void Disjoint_oneOf_compiles_and_its_values_match_one_branch(string schema, string json, bool accepted)
    {
        Assert.Equal(accepted, GrammarText.Accepts(SchemaOracle.Compile(schema), json));
        SchemaOracle.SamplesValidate(schema, count: 16); // JsonSchema.Net checks "exactly one"
    }

    [Theory]
    [InlineData("""{"oneOf":[{"type":"object","required":["k"]},{"type":"object","required":["n"]}]}""")]
    [InlineData("""{"oneOf":[{"type":"array","items":{"type":"integer"}},{"type":"array","items":{"type":"number"},"minItems":1}]}""")]
    [InlineData("""{"oneOf":[{"properties":{"in":{"enum":["a","b"]}}},{"properties":{"in":{"enum":["b"]}}}]}""")]
    public void Overlapping_oneOf_is_refused_by_name(string schema)
    {
        Assert.Equal("oneOf", Assert.Throws<JsonSchemaException>(() => SchemaOracle.Compile(schema)).Keyword);
    }
}
