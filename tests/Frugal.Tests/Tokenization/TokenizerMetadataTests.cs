using Frugal.Gguf;
using Frugal.Tokenization;

namespace Frugal.Tests.Tokenization;

/// <summary>Bad or unsupported tokenizer metadata fails with an exception that names the key.</summary>
public class TokenizerMetadataTests
{
    private static GgufFile Vocab(Action<GgufWriter> configure)
    {
        var w = new GgufWriter().Add("general.architecture", "llama");
        configure(w);
        return GgufFile.FromBytes(w.ToArray());
    }

    [Fact]
    public void Unknown_model_is_rejected_by_name()
    {
        using var file = Vocab(w => w.Add("tokenizer.ggml.model", "t5").Add("tokenizer.ggml.tokens", ["a"]));
        var ex = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(file));
        Assert.Equal("tokenizer.ggml.model", ex.Key);
        Assert.Contains("'t5'", ex.Message);
    }

    [Fact]
    public void Unknown_pre_tokenizer_is_rejected_as_llama_cpp_does()
    {
        using var file = Vocab(w => w.Add("tokenizer.ggml.model", "gpt2").Add("tokenizer.ggml.pre", "no-such-pre")
            .Add("tokenizer.ggml.tokens", ["a", "b", "ab"]).Add("tokenizer.ggml.merges", ["a b"]));
        var ex = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(file));
        Assert.Equal("tokenizer.ggml.pre", ex.Key);
        Assert.Contains("no-such-pre", ex.Message);
    }

    [Fact]
    public void Missing_merges_and_mistyped_arrays_name_their_key()
    {
        using var noMerges = Vocab(w => w.Add("tokenizer.ggml.model", "gpt2").Add("tokenizer.ggml.tokens", ["a"]));
        Assert.Equal("tokenizer.ggml.merges", Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(noMerges)).Key);

        using var badTypes = Vocab(w => w.Add("tokenizer.ggml.model", "llama").Add("tokenizer.ggml.tokens", ["a", "b", "c"])
            .Add("tokenizer.ggml.token_type", [1f, 1f, 1f]));
        Assert.Equal("tokenizer.ggml.token_type", Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(badTypes)).Key);

        using var duplicate = Vocab(w => w.Add("tokenizer.ggml.model", "llama").Add("tokenizer.ggml.tokens", ["a", "b", "a"]));
        var ex = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromGguf(duplicate));
        Assert.Contains("ids 0 and 2", ex.Message);
    }

    [Fact]
    public void Missing_pre_uses_default_rules_and_tiny_bpe_merges_by_rank()
    {
        // tokens: single bytes of "hello", then merges in rank order "l l" < "h e" < "he ll" < "hell o".
        using var file = Vocab(w => w.Add("tokenizer.ggml.model", "gpt2")
            .Add("tokenizer.ggml.tokens", ["h", "e", "l", "o", "ll", "he", "hell", "hello", "Ġ"])
            .Add("tokenizer.ggml.merges", ["l l", "h e", "he ll", "hell o"]));
        var tokenizer = Tokenizer.FromGguf(file);
        Assert.Equal([7], tokenizer.Encode("hello"));
        Assert.Equal([6, 2], tokenizer.Encode("helll", addSpecial: false));
        Assert.Equal([6, 8, 7], tokenizer.Encode("hell hello", addSpecial: false));
        Assert.False(tokenizer.AddBos);
        Assert.Equal("hell hello", tokenizer.Decode([6, 8, 7]));
    }
}
