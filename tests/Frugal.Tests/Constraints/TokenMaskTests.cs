using System.Text;
using Frugal.Inference.Constraints;
using Frugal.Tests.Tokenization;
using Frugal.Tokenization;

namespace Frugal.Tests.Constraints;

public class TokenMaskTests
{
    public static TheoryData<HfTokenizer, string> States => new()
    {
        { HfTokenizer.Qwen3, "" },
        { HfTokenizer.Qwen3, "{\"name\": \"Ad" },
        { HfTokenizer.Qwen3, "{\"a\": [1, 2" },
        { HfTokenizer.Qwen3, "{\"a\": {\"b\": tr" },
        { HfTokenizer.Qwen3, "{\"a\": \"é" },
        { HfTokenizer.Qwen3, "{}" },
        { HfTokenizer.Llama3, "{\"k\": -1.5e" },
        { HfTokenizer.Llama2, "{\"k\": \"x" },
        { HfTokenizer.Llama2, "{\"k\": [" },
    };

    [Theory]
    [MemberData(nameof(States))]
    public void Mask_allows_exactly_the_tokens_that_keep_the_text_a_valid_prefix(HfTokenizer which, string prefix)
    {
        var tokenizer = LoadedTokenizers.Frugal(which);
        var matcher = new GrammarMatcher(JsonGrammar.Object, tokenizer);
        Assert.True(matcher.AcceptText(prefix));
        var (bits, count, _) = matcher.AllowedTokens();
        var mask = bits.Span;
        int allowed = 0, refused = 0;
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            bool isAllowed = (mask[id >> 6] >> (id & 63) & 1) != 0;
            bool expected;
            if (tokenizer.IsEndOfGeneration(id)) expected = matcher.CanEnd;
            else if ((tokenizer.GetAttributes(id) & (TokenAttributes.Control | TokenAttributes.Unused | TokenAttributes.Unknown)) != 0) expected = false;
            else
            {
                byte[] b = tokenizer.TokenBytes(id);
                expected = b.Length > 0 && matcher.AcceptsPrefix(b);
            }
            Assert.True(expected == isAllowed, $"token {id} {Show(tokenizer, id)} after '{prefix}': expected {(expected ? "allowed" : "refused")}");
            if (isAllowed) allowed++; else refused++;
        }
        Assert.Equal(allowed, count);
        Assert.True(allowed > 0 && refused > 0, $"{allowed} allowed, {refused} refused");
    }

    [Fact]
    public void End_of_generation_is_allowed_only_when_the_grammar_can_end()
    {
        var tokenizer = LoadedTokenizers.Frugal(HfTokenizer.Qwen3);
        var matcher = new GrammarMatcher(JsonGrammar.Object, tokenizer);
        int eos = tokenizer.EosId!.Value;
        Assert.True(matcher.AcceptText("{\"a\": 1"));
        Assert.False(IsAllowed(matcher, eos));
        Assert.True(matcher.AcceptText("}"));
        Assert.True(matcher.CanEnd);
        Assert.True(IsAllowed(matcher, eos));
        // After the closing brace and at most bounded whitespace, nothing but whitespace and the end remain.
        var logits = new float[tokenizer.VocabSize + 7]; // a model's padded row: padding ids are refused too
        var (count, _, onlyEnd) = matcher.Apply(logits);
        Assert.False(onlyEnd);
        Assert.True(count < 1000);
        Assert.All(logits.AsSpan(tokenizer.VocabSize).ToArray(), v => Assert.Equal(float.NegativeInfinity, v));
        Assert.Equal(0f, logits[eos]);
        Assert.Equal(float.NegativeInfinity, logits[tokenizer.Encode("x", addSpecial: false)[0]]);
    }

    [Fact]
    public void Accepting_tokens_one_by_one_follows_the_text_across_split_utf8()
    {
        var tokenizer = LoadedTokenizers.Frugal(HfTokenizer.Qwen3);
        var matcher = new GrammarMatcher(GbnfGrammar.Parse("root ::= \"{\\\"t\\\": \\\"\" [^\"]* \"\\\"}\""), tokenizer);
        string text = "{\"t\": \"日本語のテキスト 😀\"}";
        foreach (int id in tokenizer.Encode(text, addSpecial: false))
        {
            Assert.True(IsAllowed(matcher, id), $"token {id} {Show(tokenizer, id)} should be allowed");
            Assert.True(matcher.Accept(id));
        }
        Assert.True(matcher.CanEnd);
        Assert.False(matcher.Accept(tokenizer.Encode("x", addSpecial: false)[0]));
    }

    [Fact]
    public void Trie_holds_every_text_token_once_and_no_control_token()
    {
        var tokenizer = LoadedTokenizers.Frugal(HfTokenizer.Qwen3);
        var trie = TokenTrie.For(tokenizer);
        Assert.Same(trie, TokenTrie.For(tokenizer));
        Assert.Equal(trie.TokenCount, trie.Tokens.Distinct().Count());
        Assert.DoesNotContain(tokenizer.Encode("<|im_start|>")[0], trie.Tokens);
        Assert.Contains(tokenizer.Encode("hello", addSpecial: false)[0], trie.Tokens);
        Assert.True(trie.NodeCount < trie.TokenCount * 4, $"{trie.NodeCount} nodes for {trie.TokenCount} tokens");
    }

    [Fact]
    public void Sequences_sharing_a_grammar_keep_their_own_progress()
    {
        var tokenizer = LoadedTokenizers.Frugal(HfTokenizer.Qwen3);
        var grammar = GbnfGrammar.Parse("root ::= \"ab\" | \"cd\"");
        var first = new GrammarMatcher(grammar, tokenizer);
        var second = new GrammarMatcher(grammar, tokenizer);
        int a = tokenizer.Encode("a", addSpecial: false)[0], c = tokenizer.Encode("c", addSpecial: false)[0];
        int b = tokenizer.Encode("b", addSpecial: false)[0], d = tokenizer.Encode("d", addSpecial: false)[0];
        Assert.True(first.Accept(a));
        Assert.True(second.Accept(c));
        Assert.True(IsAllowed(first, b) && !IsAllowed(first, d));
        Assert.True(IsAllowed(second, d) && !IsAllowed(second, b));
        Assert.False(first.Accept(d));
        Assert.True(first.Accept(b));
        Assert.True(first.CanEnd);
        Assert.False(second.CanEnd);
    }

    private static bool IsAllowed(GrammarMatcher m, int id) => (m.AllowedTokens().Bits.Span[id >> 6] >> (id & 63) & 1) != 0;

    private static string Show(Tokenizer t, int id) => Convert.ToHexString(t.TokenBytes(id)) + " '" + Encoding.UTF8.GetString(t.TokenBytes(id)) + "'";
}
