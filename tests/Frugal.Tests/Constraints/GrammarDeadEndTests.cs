using System.Text.Json;
using Frugal.Inference.Constraints;
using Frugal.Models.Synthetic;
using Frugal.Tests.Models;
using Frugal.Tokenization;

namespace Frugal.Tests.Constraints;

/// <summary>
/// A mask must never lead into a dead end: whatever allowed token is taken, some token (or the end) is allowed next,
/// until the grammar is complete. Random walks over the tiny byte-fallback vocabulary, where a multi-byte character
/// arrives one byte token at a time.
/// </summary>
public class GrammarDeadEndTests
{
    [Theory]
    [InlineData("""{"type":"object","properties":{"city":{"type":"string","maxLength":24},"days":{"enum":[1,2,3,7,14]},"units":{"enum":["metric","imperial"]}},"required":["city","days"],"additionalProperties":false}""")]
    [InlineData("""{"type":"object","properties":{"s":{"type":"string"}},"required":["s"]}""")]
    public void Random_walks_through_the_mask_never_reach_a_state_that_allows_nothing(string schema)
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, seed: 77);
        using var file = Frugal.Gguf.GgufFile.Open(SyntheticFixtures.PathOf(spec));
        var tokenizer = Tokenizer.FromGguf(file);
        var grammar = JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement);
        var rng = new Random(5);
        for (int walk = 0; walk < 300; walk++)
        {
            var matcher = new GrammarMatcher(grammar, tokenizer);
            var taken = new List<int>();
            for (int step = 0; step < 200; step++)
            {
                var (bits, count, _) = matcher.AllowedTokens();
                Assert.True(count > 0, $"walk {walk}: nothing allowed after {string.Join(" ", taken.Select(t => Convert.ToHexString(tokenizer.TokenBytes(t))))}");
                var allowed = Enumerable.Range(0, tokenizer.VocabSize).Where(id => (bits.Span[id >> 6] >> (id & 63) & 1) != 0).ToList();
                // Prefer non-ASCII bytes now and then: that is where a character spans several tokens.
                var wide = allowed.Where(id => tokenizer.TokenBytes(id) is [>= 0x80, ..]).ToList();
                int token = wide.Count > 0 && rng.Next(3) == 0 ? wide[rng.Next(wide.Count)] : allowed[rng.Next(allowed.Count)];
                if (tokenizer.IsEndOfGeneration(token)) break;
                Assert.True(matcher.Accept(token));
                taken.Add(token);
            }
        }
    }
}
