using Frugal.Inference.Constraints;

namespace Frugal.Tests.Constraints;

/// <summary>Number bounds (both drafts' spellings), min/maxProperties and additionalItems.</summary>
public class JsonSchemaRangeTests
{
    [Fact]
    public void Integer_range_grammar_accepts_exactly_the_integers_in_range()
    {
        var grammar = SchemaOracle.Compile("""{"type":"integer","minimum":-120,"maximum":345}""");
        for (int n = -1200; n <= 3500; n++)
            Assert.True(GrammarText.Accepts(grammar, n.ToString()) == (n is >= -120 and <= 345), $"{n}");
        Assert.False(GrammarText.Accepts(grammar, "-0"));
        Assert.False(GrammarText.Accepts(grammar, "007"));
        Assert.False(GrammarText.Accepts(grammar, "1.5"));
    }

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(7L, 7L)]
    [InlineData(-9L, -1L)]
    [InlineData(19L, 1003L)]
    [InlineData(-1000L, 99L)]
    public void IntegerRange_matches_a_brute_force_check(long lo, long hi)
    {
        var grammar = GbnfGrammar.Parse($"root ::= {JsonSchemaGrammar.IntegerRange(lo, hi)}\n");
        for (long n = lo - 50; n <= hi + 50; n++)
            Assert.True(GrammarText.Accepts(grammar, n.ToString()) == (n >= lo && n <= hi), $"{n} in [{lo}, {hi}]");
    }

    [Theory]
    [InlineData("""{"type":"number","minimum":0,"exclusiveMinimum":true}""", "0", false)] // draft 4's boolean
    [InlineData("""{"type":"number","minimum":0,"exclusiveMinimum":true}""", "1", true)]
    [InlineData("""{"type":"number","minimum":0,"exclusiveMinimum":true}""", "2.25", true)]
    [InlineData("""{"type":"number","minimum":0,"exclusiveMinimum":true}""", "-1", false)]
    [InlineData("""{"type":"number","minimum":0,"exclusiveMinimum":false}""", "0", true)]
    [InlineData("""{"type":"number","minimum":2.5,"exclusiveMaximum":10}""", "10", false)] // draft 6's number
    [InlineData("""{"type":"number","minimum":2.5,"exclusiveMaximum":10}""", "9.999", true)]
    [InlineData("""{"type":"number","minimum":2.5,"exclusiveMaximum":10}""", "2", false)]
    [InlineData("""{"type":"number","minimum":2.5,"exclusiveMaximum":10}""", "1e1", false)]
    [InlineData("""{"type":"integer","exclusiveMinimum":-3,"maximum":2}""", "-3", false)]
    [InlineData("""{"type":"integer","exclusiveMinimum":-3,"maximum":2}""", "-2", true)]
    [InlineData("""{"maximum":5}""", "6", false)] // bounds alone: a number
    [InlineData("""{"enum":[1,5,9],"minimum":3}""", "1", false)]
    [InlineData("""{"enum":[1,5,9],"minimum":3}""", "5", true)]
    [InlineData("""{"allOf":[{"type":"integer","minimum":1},{"maximum":3}]}""", "3", true)]
    [InlineData("""{"allOf":[{"type":"integer","minimum":1},{"maximum":3}]}""", "4", false)]
    [InlineData("""{"allOf":[{"type":"integer","minimum":1},{"minimum":2,"exclusiveMinimum":true}]}""", "2", false)]
    public void Number_bounds_are_honoured(string schema, string json, bool accepted)
    {
        Assert.Equal(accepted, GrammarText.Accepts(SchemaOracle.Compile(schema), json));
    }

    [Theory]
    [InlineData("""{"type":"number","minimum":0,"exclusiveMinimum":true}""")]
    [InlineData("""{"type":"number","minimum":-2.5,"maximum":1.5}""")]
    [InlineData("""{"type":"integer","minimum":100}""")]
    [InlineData("""{"type":["integer","null"],"maximum":-7}""")]
    public void Every_number_the_grammar_writes_validates(string schema) => SchemaOracle.SamplesValidate(schema);

    [Fact]
    public void Bounds_no_integer_meets_are_refused_with_why()
    {
        var e = Assert.Throws<JsonSchemaException>(() => SchemaOracle.Compile("""{"type":"integer","minimum":10,"maximum":5}"""));
        Assert.Contains("no integer", e.Message);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{},"b":{}},"minProperties":1}""", "{}", false)]
    [InlineData("""{"type":"object","properties":{"a":{},"b":{}},"minProperties":1}""", """{"b":1}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{},"b":{},"c":{}},"maxProperties":2}""", """{"a":1,"b":2,"c":3}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{},"b":{},"c":{}},"maxProperties":2}""", """{"a":1,"c":3}""", true)]
    [InlineData("""{"type":"object","properties":{"a":{},"b":{},"c":{}},"required":["c"],"minProperties":2}""", """{"c":3}""", false)]
    [InlineData("""{"type":"object","properties":{"a":{},"b":{},"c":{}},"required":["c"],"minProperties":2}""", """{"b":2,"c":3}""", true)]
    [InlineData("""{"type":"object","additionalProperties":{"type":"integer"},"minProperties":1,"maxProperties":1}""", "{}", false)]
    [InlineData("""{"type":"object","additionalProperties":{"type":"integer"},"minProperties":1,"maxProperties":1}""", """{"k":1}""", true)]
    [InlineData("""{"type":"object","additionalProperties":{"type":"integer"},"minProperties":1,"maxProperties":1}""", """{"k":1,"j":2}""", false)]
    public void Property_counts_are_honoured(string schema, string json, bool accepted)
    {
        Assert.Equal(accepted, GrammarText.Accepts(SchemaOracle.Compile(schema), json));
        SchemaOracle.SamplesValidate(schema, count: 8);
    }

    [Theory]
    [InlineData("""{"type":"object","additionalProperties":true,"minProperties":2}""", "minProperties")] // keys could repeat
    [InlineData("""{"type":"object","patternProperties":{"^x-":{}},"additionalProperties":false,"minProperties":1}""", "minProperties")]
    [InlineData("""{"type":"array","items":[{"type":"integer"}],"additionalItems":false}""", "additionalItems")]
    public void Counts_the_grammar_cannot_guarantee_are_refused_by_name(string schema, string keyword)
    {
        var e = Assert.Throws<JsonSchemaException>(() => SchemaOracle.Compile(schema));
        Assert.Equal(keyword, e.Keyword);
    }

    [Fact]
    public void Required_properties_beyond_maxProperties_are_refused_with_why()
    {
        var e = Assert.Throws<JsonSchemaException>(() => SchemaOracle.Compile("""{"type":"object","properties":{"a":{},"b":{}},"required":["a","b"],"maxProperties":1}"""));
        Assert.Contains("maxProperties", e.Message);
    }

    [Fact]
    public void AdditionalItems_next_to_one_items_schema_has_no_effect()
    {
        var grammar = SchemaOracle.Compile("""{"type":"array","items":{"type":"integer"},"additionalItems":false}""");
        Assert.True(GrammarText.Accepts(grammar, "[1, 2, 3]"));
        Assert.False(GrammarText.Accepts(grammar, """["a"]"""));
    }
}
