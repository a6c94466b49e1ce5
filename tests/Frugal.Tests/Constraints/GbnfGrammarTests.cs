using System.Text;
using Frugal.Inference.Constraints;

namespace Frugal.Tests.Constraints;

public class GbnfGrammarTests
{
    [Theory]
    [InlineData("root ::= \"yes\" | \"no\"", "yes", true)]
    [InlineData("root ::= \"yes\" | \"no\"", "no", true)]
    [InlineData("root ::= \"yes\" | \"no\"", "ye", false)]
    [InlineData("root ::= \"yes\" | \"no\"", "yess", false)]
    [InlineData("root ::= [a-c]+", "abccba", true)]
    [InlineData("root ::= [a-c]+", "", false)]
    [InlineData("root ::= [a-c]+", "abd", false)]
    [InlineData("root ::= [^a-c]*", "xyz", true)]
    [InlineData("root ::= [^a-c]*", "xaz", false)]
    [InlineData("root ::= \"a\"? \"b\"", "b", true)]
    [InlineData("root ::= \"a\"? \"b\"", "ab", true)]
    [InlineData("root ::= \"a\"? \"b\"", "aab", false)]
    [InlineData("root ::= [0-9]{2,4}", "1", false)]
    [InlineData("root ::= [0-9]{2,4}", "12", true)]
    [InlineData("root ::= [0-9]{2,4}", "1234", true)]
    [InlineData("root ::= [0-9]{2,4}", "12345", false)]
    [InlineData("root ::= [0-9]{3}", "123", true)]
    [InlineData("root ::= [0-9]{3}", "12", false)]
    [InlineData("root ::= \"x\"{2,}", "xxxxx", true)]
    [InlineData("root ::= \"x\"{2,}", "x", false)]
    [InlineData("root ::= (\"ab\" | \"c\")* \"!\"", "abcab!", true)]
    [InlineData("root ::= (\"ab\" | \"c\")* \"!\"", "abca!", false)]
    [InlineData("root ::= \"ab\"+", "ababab", true)]
    [InlineData("root ::= \"ab\"+", "aba", false)]
    [InlineData("root ::= . . .", "a€😀", true)]
    [InlineData("root ::= . . .", "ab", false)]
    [InlineData("root ::= \"\\x41\\u00e9\\U0001F600\\n\\t\\\"\\\\\"", "Aé😀\n\t\"\\", true)]
    [InlineData("root ::= [\\]\\[\\-]+", "][-", true)]
    [InlineData("root ::= [é-ë]", "ê", true)]
    [InlineData("root ::= [é-ë]", "e", false)]
    public void Matcher_accepts_exactly_the_language(string grammar, string text, bool accepted)
    {
        Assert.Equal(accepted, GrammarText.Accepts(GbnfGrammar.Parse(grammar), text));
    }

    [Fact]
    public void Rules_comments_newlines_in_groups_and_recursion_work_together()
    {
        var g = GbnfGrammar.Parse("""
            # a list of numbers or nested lists
            root ::= list   # the start
            list ::= "[" (
                item ("," item)*
              )? "]"
            item ::= num | list
            num  ::= "-"? [0-9]+
            """);
        Assert.True(GrammarText.Accepts(g, "[1,[2,-3],[[]]]"));
        Assert.True(GrammarText.Accepts(g, "[]"));
        Assert.False(GrammarText.Accepts(g, "[1,]"));
        Assert.False(GrammarText.Accepts(g, "[1,[2]"));
        Assert.True(GrammarText.IsPrefix(g, "[1,[2"u8));
        Assert.False(GrammarText.IsPrefix(g, "[1,x"u8));
    }

    [Fact]
    public void A_partial_utf8_character_is_a_prefix_only_if_it_can_complete_into_the_class()
    {
        var g = GbnfGrammar.Parse("root ::= [€]"); // U+20AC = E2 82 AC
        Assert.True(GrammarText.IsPrefix(g, [0xE2]));
        Assert.True(GrammarText.IsPrefix(g, [0xE2, 0x82]));
        Assert.False(GrammarText.IsPrefix(g, [0xE2, 0x81]));
        Assert.False(GrammarText.IsPrefix(g, [0xC3]));      // a 2-byte lead can never make U+20AC
        Assert.False(GrammarText.IsPrefix(g, [0x82]));      // continuation without a lead
        Assert.False(GrammarText.IsPrefix(g, [0xE0, 0x80, 0x80])); // overlong
        var ascii = GbnfGrammar.Parse("root ::= \"H\"");
        Assert.False(GrammarText.IsPrefix(ascii, [0xF0]));  // a 4-byte character is never 'H' (its lead's bits are 0)
        Assert.False(GrammarText.IsPrefix(ascii, [0xE0]));
        Assert.False(GrammarText.IsPrefix(ascii, [0xC2]));
        Assert.True(GrammarText.Accepts(g, "€"));
    }

    [Theory]
    [InlineData("root ::= \"a", "line 1, column 10: unterminated string literal")]
    [InlineData("root ::= [a-", "line 1, column 10: unterminated character class")]
    [InlineData("root ::= (\"a\"", "line 1, column 14: expected ')' to close the group")]
    [InlineData("root ::= \"a\"\nx = \"b\"", "line 2, column 3: expected '::=' after rule name 'x'")]
    [InlineData("root ::= undefined-thing", "line 1, column 10: rule 'undefined-thing' is used but never defined")]
    [InlineData("start ::= \"a\"", "no 'root' rule")]
    [InlineData("root ::= \"a\"\nroot ::= \"b\"", "line 2, column 1: rule 'root' is defined twice")]
    [InlineData("root ::= * \"a\"", "line 1, column 10: '*' has nothing before it to repeat")]
    [InlineData("root ::= \"a\"{3,1}", "line 1, column 13: repetition {3,1} has max < min")]
    [InlineData("root ::= \"a\"{2", "line 1, column 15: expected '}' to close the repetition")]
    [InlineData("root ::= \"a\"{5000}", "repetition count must be at most 1000")]
    [InlineData("root ::= [z-a]", "character range is reversed")]
    [InlineData("root ::= \"\\q\"", "line 1, column 11: unknown escape '\\q'")]
    [InlineData("root ::= \"\\xZZ\"", "expected 2 hex digits")]
    [InlineData("root ::= \"a\" )", "line 1, column 14: unexpected ')' in rule 'root'")]
    public void Syntax_errors_name_line_column_and_problem(string grammar, string message)
    {
        var e = Assert.Throws<GrammarFormatException>(() => GbnfGrammar.Parse(grammar));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("root ::= root \"a\" | \"b\"", "root -> root")]
    [InlineData("root ::= a\na ::= b \"x\"\nb ::= \"\" | a", "a -> b -> a")]
    [InlineData("root ::= (\"a\"?)*", "left recursive")]
    public void Left_recursion_is_refused_with_the_cycle_named(string grammar, string message)
    {
        var e = Assert.Throws<GrammarFormatException>(() => GbnfGrammar.Parse(grammar));
        Assert.Contains("left recursive", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Hostile_grammars_are_refused_or_stay_small()
    {
        var deep = Assert.Throws<GrammarFormatException>(() => GbnfGrammar.Parse("root ::= " + new string('(', 5000) + "\"a\"" + new string(')', 5000)));
        Assert.Contains("groups nest deeper than 200", deep.Message);
        // Repeating a long literal copies one rule reference, not the literal: 1000 x 1000 stays a few thousand elements.
        var big = GbnfGrammar.Parse("root ::= (\"" + new string('x', 1000) + "\"{1000}){2}");
        Assert.True(big.Elements.Length < 10_000, $"{big.Elements.Length} elements");
        Assert.True(GrammarText.IsPrefix(big, Encoding.UTF8.GetBytes(new string('x', 5000))));
    }

    [Fact]
    public void Right_recursion_deep_input_stays_bounded()
    {
        var g = GbnfGrammar.Parse("root ::= \"(\" root \")\" | \"x\"");
        string deep = new string('(', 300) + "x" + new string(')', 300);
        Assert.True(GrammarText.Accepts(g, deep));
        Assert.False(GrammarText.Accepts(g, deep + ")"));
    }

    [Fact]
    public void Ambiguous_grammar_keeps_every_parse_alive()
    {
        var g = GbnfGrammar.Parse("root ::= a | b\na ::= \"x\"* \"y\"\nb ::= \"x\"* \"z\"");
        Assert.True(GrammarText.Accepts(g, "xxxy"));
        Assert.True(GrammarText.Accepts(g, "xxxz"));
        Assert.False(GrammarText.Accepts(g, "xxx"));
        Assert.True(GrammarText.IsPrefix(g, Encoding.UTF8.GetBytes("xxxxxxxx")));
    }

    [Theory]
    [InlineData("{}", true)]
    [InlineData("{\"a\": [1, -2.5e3, true, null, \"s\\n\\u00e9\"], \"b\": {\"c\": false}}", true)]
    [InlineData("{\"a\":1,}", false)]
    [InlineData("[1]", false)]
    [InlineData("{\"a\": 01}", false)]
    [InlineData("{\"a\": \"tab\there\"}", false)]
    public void Built_in_json_grammar_matches_json_objects(string text, bool accepted)
    {
        Assert.Equal(accepted, GrammarText.Accepts(JsonGrammar.Object, text));
    }
}
