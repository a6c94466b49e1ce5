using System.Text.Json;
using Frugal.Inference.Constraints;
using Json.Schema;

namespace Frugal.Tests.Constraints;

/// <summary>Compiles a schema and checks, with JsonSchema.Net as the independent validator, that seeded random
/// sentences of its grammar all validate.</summary>
internal static class SchemaOracle
{
    public static GbnfGrammar Compile(string schema, JsonSchemaDocuments? documents = null) =>
        JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement, documents);

    /// <summary>Samples documents from the schema's grammar; returns them after asserting each validates.</summary>
    public static List<string> SamplesValidate(string schema, int count = 24, int seed = 7)
    {
        var grammar = Compile(schema);
        var validator = JsonSchema.FromText(JsonSchemaCorpusTests.ForValidator(schema), JsonSchemaCorpusTests.ValidatorOptions.Value);
        var sampler = new GrammarSampler(grammar);
        var rng = new Random(seed);
        var docs = new List<string>();
        for (int i = 0; i < count; i++)
        {
            string doc = sampler.Sample(rng, budget: 40 + 10 * i);
            var result = validator.Evaluate(JsonDocument.Parse(doc).RootElement, new EvaluationOptions { RequireFormatValidation = true });
            Assert.True(result.IsValid, $"the grammar wrote {doc}, which fails {schema}");
            docs.Add(doc);
        }
        return docs;
    }
}
