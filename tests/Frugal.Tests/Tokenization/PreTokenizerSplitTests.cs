using Frugal.Tokenization;

namespace Frugal.Tests.Tokenization;

/// <summary>
/// The word splits of the pre-tokenizers added for Mistral Nemo (tekken) and Phi-4-mini (gpt-4o), where llama.cpp's
/// adapted patterns differ from the tokenizer.json originals; the id parity tests check the rest end to end.
/// </summary>
public class PreTokenizerSplitTests
{
    [Fact]
    public void Tekken_splits_case_changes_digits_and_keeps_slash_newline_runs()
    {
        var tekken = PreTokenizerRules.Resolve("tekken");
        // " ÉCOLE" splits after "É": llama.cpp's [^A-Z] letter matches any non-ASCII letter, uppercase or not.
        Assert.Equal(["Hello", "World", " É", "COLE", " ", "1", "2", "/\n"], tekken.Split("HelloWorld ÉCOLE 12/\n"));
        Assert.True(tekken.IgnoreMerges);
        Assert.True(tekken.AddBos);
        Assert.False(tekken.CleanSpaces);
    }

    [Fact]
    public void Gpt4o_keeps_contractions_on_the_word_and_groups_digits_in_threes()
    {
        var o200k = PreTokenizerRules.Resolve("gpt-4o");
        Assert.Equal(["I'M", " don't", "Stop", " ", "123", "45"], o200k.Split("I'M don'tStop 12345"));
        Assert.Equal(o200k.Patterns, PreTokenizerRules.Resolve("llama4").Patterns);
        Assert.False(o200k.CleanSpaces);
        Assert.False(o200k.IgnoreMerges);
    }

    [Fact]
    public void Unknown_pre_tokenizer_is_refused_with_its_name()
    {
        var e = Assert.Throws<TokenizerFormatException>(() => PreTokenizerRules.Resolve("no-such-pre"));
        Assert.Contains("'no-such-pre'", e.Message);
        Assert.Contains("tekken", e.Message);
    }
}
