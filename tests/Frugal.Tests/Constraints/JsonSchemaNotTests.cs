using Frugal.Inference.Constraints;

namespace Frugal.Tests.Constraints;

/// <summary>not {enum/const} and not {properties: {p: {enum/const}}}, alone and as what tells oneOf branches apart.</summary>
public class JsonSchemaNotTests
{
    // OpenAPI 3.0's HTTPSecurityScheme, cut down: the bearer branch against every other scheme.
    private const string HttpScheme = """{"type":"object","required":["scheme"],"properties":{"scheme":{"type":"string"},"bearerFormat":{"type":"string"}},"additionalProperties":false,"oneOf":[{"properties":{"scheme":{"enum":["bearer"]}}},{"not":{"required":["bearerFormat"]},"properties":{"scheme":{"not":{"enum":["bearer"]}}}}]}""";

    // AsyncAPI's NonBearerHTTPSecurityScheme, cut down: not an object whose scheme is "bearer".
    private const string NonBearer = """{"type":"object","properties":{"scheme":{"type":"string"}},"additionalProperties":false,"not":{"type":"object","properties":{"scheme":{"type":"string","enum":["bearer"]}}}}""";

    [Theory]
    [InlineData("""{"type":"string","not":{"enum":["bearer","basic"]}}""", "\"bearer\"", false)]
    [InlineData("""{"type":"string","not":{"enum":["bearer","basic"]}}""", "\"basic\"", false)]
    [InlineData("""{"type":"string","not":{"enum":["bearer","basic"]}}""", "\"bear\"", true)]
    [InlineData("""{"type":"string","not":{"enum":["bearer","basic"]}}""", "\"bearers\"", true)]
    [InlineData("""{"type":"string","not":{"enum":["bearer","basic"]}}""", "\"\"", true)]
    [InlineData("""{"type":"string","not":{"enum":["bearer","basic"]}}""", "\"digest\"", true)]
    [InlineData("""{"enum":["a","b","c"],"not":{"const":"b"}}""", "\"b\"", false)]
    [InlineData("""{"enum":["a","b","c"],"not":{"const":"b"}}""", "\"a\"", true)]
    [InlineData("""{"type":"boolean","not":{"const":true}}""", "true", false)]
    [InlineData("""{"type":"boolean","not":{"const":true}}""", "false", true)]
    [InlineData(NonBearer, """{"scheme":"bearer"}""", false)]
    [InlineData(NonBearer, """{"scheme":"basic"}""", true)]
    [InlineData(NonBearer, """{}""", false)] // narrower: the object is written with its scheme
    [InlineData(HttpScheme, """{"scheme":"bearer","bearerFormat":"JWT"}""", true)]
    [InlineData(HttpScheme, """{"scheme":"basic"}""", true)]
    [InlineData(HttpScheme, """{"scheme":"basic","bearerFormat":"JWT"}""", false)]
    public void Not_leaves_out_what_it_names(string schema, string json, bool accepted)
    {
        Assert.Equal(accepted, GrammarText.Accepts(SchemaOracle.Compile(schema), json));
        SchemaOracle.SamplesValidate(schema, count: 12);
    }

    [Theory]
    [InlineData("""{"type":"integer","not":{"const":1}}""")]
    [InlineData("""{"type":"string","maxLength":3,"not":{"const":"abc"}}""")]
    [InlineData("""{"not":{"type":"string"}}""")]
    public void Other_forms_of_not_are_refused_by_name(string schema)
    {
        Assert.Equal("not", Assert.Throws<JsonSchemaException>(() => SchemaOracle.Compile(schema)).Keyword);
    }
}
