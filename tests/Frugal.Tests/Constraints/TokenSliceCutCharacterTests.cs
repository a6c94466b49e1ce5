using Frugal.Inference.Constraints;

namespace Frugal.Tests.Constraints;

/// <summary>
/// A token that ends inside a UTF-8 character is decided by the slice (as a whole token of one more character) when
/// every completion of that character is in the slice's class; one that can only complete to a surrogate is never
/// allowed. Checked on a bounded class run, where one more character is allowed or not depending on the count so far,
/// against the automaton walking each token's bytes.
/// </summary>
public class TokenSliceCutCharacterTests
{
    private static readonly byte[][] Tokens =
    [
        "<"u8.ToArray(),           // 0
        "a"u8.ToArray(),           // 1
        [0xE4],                    // 2: the first byte of a CJK character
        [(byte)'a', 0xE4, 0xB8],   // 3: one character, then two bytes of another
        [0xED, 0xA0],              // 4: can only complete to a surrogate
        ">"u8.ToArray(),           // 5
        "ab"u8.ToArray(),          // 6
        "abc"u8.ToArray(),         // 7
    ];

    [Fact]
    public void Token_ending_mid_character_is_allowed_exactly_when_one_more_character_is()
    {
        var grammar = GbnfGrammar.Parse("root ::= \"<\" [^>]{0,2} \">\"\n");
        var trie = new TokenTrie(Tokens.Length, Tokens.Select((b, id) => (b, id)), []);
        var matcher = new GrammarMatcher(grammar, trie);
        Assert.Equal([0], Allowed(matcher));
        Assert.True(matcher.Accept(0));
        Assert.NotNull(matcher.SliceClass); // the mask below comes from the slice of [^>]
        Assert.Equal([0, 1, 2, 3, 5, 6], Allowed(matcher)); // "<" is a character of [^>] too
        Assert.True(matcher.Accept(1));
        Assert.Equal([0, 1, 2, 5], Allowed(matcher));
        Assert.True(matcher.Accept(1));
        Assert.Equal([5], Allowed(matcher));
    }

    private static int[] Allowed(GrammarMatcher matcher)
    {
        var (bits, count, _) = matcher.AllowedTokens();
        var ids = Enumerable.Range(0, Tokens.Length).Where(id => (bits.Span[id >> 6] >> (id & 63) & 1) != 0).ToArray();
        Assert.Equal(ids.Length, count);
        // The same answer as walking each token's bytes through the automaton.
        Assert.Equal(ids, Enumerable.Range(0, Tokens.Length).Where(id => matcher.AcceptsPrefix(Tokens[id])).ToArray());
        return ids;
    }
}
