using System.Text.Json;
using Frugal.Inference.Constraints;

namespace Frugal.Tests.Constraints;

/// <summary>$refs outside the schema: into the bundled meta-schemas, into a directory of local schemas, or refused.</summary>
public class JsonSchemaReferenceTests
{
    [Theory]
    [InlineData("""{"$ref":"http://json-schema.org/draft-04/schema#/definitions/positiveInteger"}""", "17", true)]
    [InlineData("""{"$ref":"http://json-schema.org/draft-04/schema#/definitions/positiveInteger"}""", "-1", false)]
    // positiveIntegerDefault0 is an allOf whose $ref (#/definitions/positiveInteger) is local to the meta-schema.
    [InlineData("""{"$ref":"http://json-schema.org/draft-04/schema#/definitions/positiveIntegerDefault0"}""", "0", true)]
    [InlineData("""{"$ref":"http://json-schema.org/draft-04/schema#/definitions/positiveIntegerDefault0"}""", "-3", false)]
    [InlineData("""{"type":"object","properties":{"t":{"$ref":"http://json-schema.org/draft-04/schema#/properties/type"}},"required":["t"]}""", """{"t":"string"}""", true)]
    [InlineData("""{"type":"object","properties":{"t":{"$ref":"http://json-schema.org/draft-04/schema#/properties/type"}},"required":["t"]}""", """{"t":"file"}""", false)]
    [InlineData("""{"$ref":"http://json-schema.org/draft-07/schema#/definitions/nonNegativeInteger"}""", "3", true)]
    [InlineData("""{"$ref":"http://json-schema.org/draft-06/schema#/definitions/stringArray"}""", """["a"]""", true)]
    public void References_into_bundled_meta_schemas_resolve(string schema, string json, bool accepted)
    {
        Assert.Equal(accepted, GrammarText.Accepts(SchemaOracle.Compile(schema), json));
        SchemaOracle.SamplesValidate(schema, count: 8);
    }

    [Fact]
    public void References_to_unknown_documents_are_refused_by_name()
    {
        var e = Assert.Throws<JsonSchemaException>(() => SchemaOracle.Compile("""{"$ref":"https://example.com/schema.json#/definitions/a"}"""));
        Assert.Equal("$ref", e.Keyword);
        Assert.Contains("https://example.com/schema.json", e.Message);
    }

    [Fact]
    public void References_resolve_into_a_directory_of_local_schemas()
    {
        string dir = Directory.CreateTempSubdirectory("frugal-schemas-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "common.json"), """{"definitions":{"id":{"type":"integer","minimum":1},"pair":{"type":"array","items":{"$ref":"#/definitions/id"},"maxItems":2}}}""");
            File.WriteAllText(Path.Combine(dir, "named.json"), """{"$id":"https://example.com/named.json","definitions":{"name":{"type":"string","maxLength":3}}}""");
            var docs = JsonSchemaDocuments.FromDirectory(dir);
            var grammar = SchemaOracle.Compile("""{"type":"object","properties":{"p":{"$ref":"common.json#/definitions/pair"},"n":{"$ref":"https://example.com/named.json#/definitions/name"}},"required":["p","n"]}""", docs);
            Assert.True(GrammarText.Accepts(grammar, """{"p":[1,2],"n":"abc"}"""));
            Assert.False(GrammarText.Accepts(grammar, """{"p":[0],"n":"abc"}""")); // common.json's local $ref followed
            Assert.False(GrammarText.Accepts(grammar, """{"p":[1],"n":"abcd"}"""));
            // Without the directory the same schema is refused by name.
            Assert.Equal("$ref", Assert.Throws<JsonSchemaException>(() => SchemaOracle.Compile("""{"$ref":"common.json#/definitions/id"}""")).Keyword);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
