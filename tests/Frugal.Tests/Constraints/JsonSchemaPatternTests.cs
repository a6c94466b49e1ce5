using Frugal.Inference.Constraints;

namespace Frugal.Tests.Constraints;

/// <summary>String patterns compiled from the regex into grammar rules over the string's JSON text.</summary>
public class JsonSchemaPatternTests
{
    [Theory]
    [InlineData("""^[a-z]{2,3}-\\d+$""", "\"ab-12\"", true)]
    [InlineData("""^[a-z]{2,3}-\\d+$""", "\"a-1\"", false)]
    [InlineData("""^[a-z]{2,3}-\\d+$""", "\"abcd-1\"", false)]
    [InlineData("""^[a-z]{2,3}-\\d+$""", "\"ab-\"", false)]
    [InlineData("""^([0-9]{3})$|^(default)$""", "\"404\"", true)]
    [InlineData("""^([0-9]{3})$|^(default)$""", "\"default\"", true)]
    [InlineData("""^([0-9]{3})$|^(default)$""", "\"40\"", false)]
    [InlineData("""^3\\.0\\.\\d(-.+)?$""", "\"3.0.1-rc.2\"", true)]
    [InlineData("""^3\\.0\\.\\d(-.+)?$""", "\"3.0.1\"", true)]
    [InlineData("""^3\\.0\\.\\d(-.+)?$""", "\"3x0.1\"", false)]
    [InlineData("""^[^\\/~]+$""", "\"a b%\"", true)]
    [InlineData("""^[^\\/~]+$""", "\"a/b\"", false)]
    [InlineData("""^[^\\/~]+$""", "\"a\\\"b\"", true)] // a quote in the class is written as its JSON escape
    [InlineData("""^[^\\/~]+$""", "\"a\\u0001b\"", false)] // a control character is left out (narrower)
    [InlineData("""^a\"b\\\\c$""", "\"a\\\"b\\\\c\"", true)] // quote and backslash as their JSON escapes
    [InlineData("""^line\\nbreak$""", "\"line\\nbreak\"", true)]
    [InlineData("""^(?:ab|cd){2}$""", "\"abcd\"", true)]
    [InlineData("""^(?:ab|cd){2}$""", "\"abc\"", false)]
    [InlineData("""^(?<year>\\d{4})-x?$""", "\"2024-\"", true)]
    [InlineData("""^\\u00e9t\\x65$""", "\"été\"", false)]
    [InlineData("""^\\u00e9t\\x65$""", "\"éte\"", true)]
    [InlineData("""^x-""", "\"x-\"", true)] // unanchored at the end: the grammar writes exactly a match, which is one
    public void Pattern_grammar_accepts_the_matching_strings_it_writes(string pattern, string json, bool accepted)
    {
        var grammar = SchemaOracle.Compile($$"""{"type":"string","pattern":"{{pattern}}"}""");
        Assert.Equal(accepted, GrammarText.Accepts(grammar, json));
    }

    [Theory]
    [InlineData("""^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$""")]
    [InlineData("""^\\$message\\.(header|payload)#(\\/(([^\\/~])|(~[01]))*)*""")]
    [InlineData("""^([1-2][0-9]{3}-[0-1][0-9]-[0-3][0-9]|[1-2][0-9]{3}-[0-1][0-9]|[1-2][0-9]{3})$""")]
    [InlineData("""\\s\\S\\w\\W\\D.[^a-z]""")]
    public void Every_string_a_pattern_grammar_writes_matches_under_JsonSchema_Net(string pattern)
    {
        var docs = SchemaOracle.SamplesValidate($$"""{"type":"string","pattern":"{{pattern}}"}""");
        Assert.True(docs.Distinct().Count() > 3, "the samples vary");
    }

    [Theory]
    [InlineData("""^(a)\\1$""", "backreference")]
    [InlineData("""^(?=a)a$""", "lookaround")]
    [InlineData("""^(?<!a)b$""", "lookaround")]
    [InlineData("""\\bword\\b""", "word boundary")]
    [InlineData("""^a(^b)$""", "'^'")]
    [InlineData("""^\\p{L}+$""", "Unicode property")]
    [InlineData("""^a{2000}$""", "repeat count")]
    public void Non_regular_patterns_are_refused_by_name(string pattern, string why)
    {
        var e = Assert.Throws<JsonSchemaException>(() => SchemaOracle.Compile($$"""{"type":"string","pattern":"{{pattern}}"}"""));
        Assert.Equal("pattern", e.Keyword);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void Pattern_next_to_length_bounds_is_refused_by_name()
    {
        var e = Assert.Throws<JsonSchemaException>(() => SchemaOracle.Compile("""{"type":"string","pattern":"^a+$","maxLength":3}"""));
        Assert.Equal("maxLength", e.Keyword);
    }

    [Fact]
    public void Enum_values_are_filtered_by_the_pattern()
    {
        var grammar = SchemaOracle.Compile("""{"type":"string","enum":["abc","ab1","zzz"],"pattern":"^[a-z]+$"}""");
        Assert.True(GrammarText.Accepts(grammar, "\"abc\""));
        Assert.False(GrammarText.Accepts(grammar, "\"ab1\""));
    }
}
