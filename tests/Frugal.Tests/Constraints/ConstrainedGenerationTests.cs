using System.Text.Json;
using Frugal.Gguf;
using Frugal.Inference.Constraints;
using Frugal.Inference.Generation;
using Frugal.Inference.Sampling;
using Frugal.Models;
using Frugal.Tests.Training;
using Frugal.Tokenization;
using Json.Schema;

namespace Frugal.Tests.Constraints;

/// <summary>
/// The built-in model (tiny, trained on stories, knows nothing of JSON) generating under grammars: whatever it
/// samples, the output must parse and validate, which is exactly what the mask promises.
/// </summary>
public class ConstrainedGenerationTests
{
    private static readonly Lazy<TextGenerator> Generator = new(() =>
    {
        var file = GgufFile.Open(Path.Combine(ShippedModels.Directory, "frugal-main.gguf"));
        return new TextGenerator(ModelLoader.Load(file), Tokenizer.FromGguf(file));
    });

    /// <summary>Varied schemas: every supported keyword appears in at least one.</summary>
    public static TheoryData<string> Schemas => new()
    {
        """{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},"email":{"type":"string","maxLength":20}},"required":["name","age"],"additionalProperties":false}""",
        """{"type":"object","properties":{"color":{"enum":["red","green","blue"]},"kind":{"const":"pixel"},"ok":{"type":"boolean"},"note":{"type":"null"}},"required":["color","kind","ok"]}""",
        """{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":4}""",
        """{"type":"object","properties":{"v":{"anyOf":[{"type":"integer"},{"type":"string","maxLength":5},{"type":"null"}]},"w":{"type":["boolean","null"]}},"required":["v","w"]}""",
        """{"$defs":{"point":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"}},"required":["x","y"],"additionalProperties":false}},"type":"object","properties":{"from":{"$ref":"#/$defs/point"},"to":{"$ref":"#/$defs/point"}},"required":["from","to"]}""",
        """{"oneOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false},{"type":"array","items":{"type":"boolean"},"maxItems":3}]}""",
        """{"type":"object","properties":{"when":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"},"day":{"type":"string","format":"date"}},"required":["when","id","day"]}""",
        """{"type":"object","properties":{"code":{"type":"string","minLength":3,"maxLength":3},"tags":{"type":"array","items":{"enum":[1,2.5,"x",true,null]},"minItems":1,"maxItems":3},"extra":{"type":"object","additionalProperties":false}},"required":["code","tags"]}""",
    };

    [Theory]
    [MemberData(nameof(Schemas))]
    public void Output_under_a_json_schema_parses_and_validates(string schemaText)
    {
        using var schemaDoc = JsonDocument.Parse(schemaText);
        var grammar = JsonSchemaGrammar.Compile(schemaDoc.RootElement);
        var validator = JsonSchema.FromText(schemaText);
        for (ulong seed = 1; seed <= 4; seed++)
        {
            string text = Generate(grammar, seed);
            using var doc = JsonDocument.Parse(text);
            var result = validator.Evaluate(doc.RootElement, new EvaluationOptions { RequireFormatValidation = true, OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"seed {seed}: {text}\n{JsonSerializer.Serialize(result)}");
        }
    }

    [Fact]
    public void Output_under_json_object_parses_as_an_object()
    {
        // Free JSON has no bound on string length, and this model writes stories into its strings: a run may hit the
        // token limit, and then what it wrote is still a valid prefix. Those that end are whole objects.
        int complete = 0;
        for (ulong seed = 1; seed <= 12; seed++)
        {
            var result = Run(JsonGrammar.Object, seed, maxTokens: 200);
            if (result.StopReason == StopReason.EndOfGeneration)
            {
                using var doc = JsonDocument.Parse(result.Text);
                Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
                complete++;
            }
            else
            {
                Assert.Equal(StopReason.MaxTokens, result.StopReason);
                Assert.True(GrammarText.IsPrefix(JsonGrammar.Object, System.Text.Encoding.UTF8.GetBytes(result.Text)), result.Text);
            }
        }
        Assert.True(complete >= 2, $"{complete} of 12 runs closed their object");
    }

    [Fact]
    public void Output_under_a_gbnf_grammar_is_a_sentence_of_it()
    {
        var grammar = GbnfGrammar.Parse("""
            root ::= greeting " " name "!"
            greeting ::= "Hello" | "Hi" | "Good " ("morning" | "night")
            name ::= [A-Z] [a-z]{1,8}
            """);
        for (ulong seed = 1; seed <= 4; seed++)
        {
            string text = Generate(grammar, seed);
            Assert.Matches("^(Hello|Hi|Good morning|Good night) [A-Z][a-z]{1,8}!$", text);
        }
    }

    [Fact]
    public void Greedy_decoding_is_masked_too()
    {
        var grammar = GbnfGrammar.Parse("root ::= [0-9]{4} \"-\" [0-9]{2}");
        var result = Generator.Value.Generate("Once upon a time", new GenerationOptions
        {
            MaxTokens = 50,
            Sampling = SamplingOptions.Greedy,
            Grammar = grammar,
        });
        Assert.Equal(StopReason.EndOfGeneration, result.StopReason);
        Assert.Matches("^[0-9]{4}-[0-9]{2}$", result.Text);
    }

    private static GenerationResult Run(GbnfGrammar grammar, ulong seed, int maxTokens) =>
        Generator.Value.Generate("Once upon a time", new GenerationOptions
        {
            MaxTokens = maxTokens,
            Sampling = new SamplingOptions { Seed = seed, Temperature = 1.0f },
            Grammar = grammar,
        });

    private static string Generate(GbnfGrammar grammar, ulong seed, int maxTokens = 300)
    {
        var result = Run(grammar, seed, maxTokens);
        Assert.True(result.StopReason == StopReason.EndOfGeneration, $"seed {seed}: stopped by {result.StopReason} after {result.Tokens.Count} tokens: {result.Text}");
        return result.Text;
    }
}
