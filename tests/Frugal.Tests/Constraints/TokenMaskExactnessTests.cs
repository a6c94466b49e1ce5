using System.Text;
using System.Text.Json;
using Frugal.Inference.Constraints;
using Frugal.Tests.Tokenization;

namespace Frugal.Tests.Constraints;

/// <summary>
/// The token mask (slices in looping states, trie walks elsewhere) against the brute-force mask: every token's bytes
/// run through the grammar's automaton from the same state. Each grammar's seeded random sentences are written token
/// by token on the Qwen3 vocabulary (the longest allowed token that spells the next bytes), and every state on the
/// way is compared, so string bodies, keys, numbers, escapes, split UTF-8 and the states between values are all met.
/// </summary>
public class TokenMaskExactnessTests
{
    public static TheoryData<string> Grammars => new()
    {
        "json_object",
        "schema",
        "root ::= word (\",\" \" \"? word)* \".\"\nword ::= [a-z]+ | [A-Z] [a-z]*\n",
        "root ::= (\"<\" [^<>\\n]* \">\" | \"«\" [α-ω ]{0,12} \"»\" | \"'\" [^a]* \"'\")+\n",
    };

    [Theory]
    [MemberData(nameof(Grammars))]
    public void Fast_mask_equals_the_brute_force_mask_on_every_state_of_seeded_sentences(string which)
    {
        var grammar = which switch
        {
            "json_object" => JsonGrammar.Object,
            "schema" => JsonSchemaGrammar.Compile(JsonDocument.Parse("""
                {"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string","maxLength":6},
                 "tags":{"type":"array","items":{"type":"string"}},"kind":{"enum":["alpha","beta"]},
                 "score":{"type":"number"},"child":{"type":"object","properties":{"note":{"type":"string"}}}},
                 "required":["id","name"]}
                """).RootElement),
            _ => GbnfGrammar.Parse(which),
        };
        var tokenizer = LoadedTokenizers.Frugal(HfTokenizer.Qwen3);
        var trie = TokenTrie.For(tokenizer);
        var sampler = new GrammarSampler(grammar);
        var rng = new Random(which.Length);
        int states = 0, stringStates = 0, slicedStates = 0;
        for (int d = 0; d < 12 && states < 25; d++)
        {
            byte[] doc = Encoding.UTF8.GetBytes(sampler.Sample(rng, budget: 50));
            var matcher = new GrammarMatcher(grammar, tokenizer);
            int at = 0;
            while (true)
            {
                var (bits, count, _) = matcher.AllowedTokens();
                var mask = bits.Span;
                int allowed = 0, best = -1, bestLength = 0;
                for (int id = 0; id < tokenizer.VocabSize; id++)
                {
                    bool expected = trie.IsEndOfGeneration(id) ? matcher.CanEnd
                        : trie.BytesOf(id) is byte[] b && matcher.AcceptsPrefix(b);
                    bool fast = (mask[id >> 6] >> (id & 63) & 1) != 0;
                    Assert.True(expected == fast, $"{which}: token {id} '{tokenizer.Decode([id])}' after '{Encoding.UTF8.GetString(doc, 0, at)}': the mask says {(fast ? "allowed" : "refused")}");
                    if (!fast) continue;
                    allowed++;
                    if (trie.BytesOf(id) is byte[] t && t.Length > bestLength && doc.AsSpan(at).StartsWith(t)) { best = id; bestLength = t.Length; }
                }
                Assert.Equal(allowed, count);
                states++;
                if (matcher.SliceClass is not null) slicedStates++;
                if (allowed > 100_000) stringStates++;
                if (at == doc.Length) break;
                Assert.True(best >= 0, $"{which}: no allowed token continues '{Encoding.UTF8.GetString(doc)}' at byte {at}");
                Assert.True(matcher.Accept(best));
                at += bestLength;
            }
            Assert.True(matcher.CanEnd);
        }
        Assert.True(states >= 20, $"{states} states compared");
        Assert.True(slicedStates > 0, "no state whose mask is sliced by a character class was compared");
        if (which is "json_object" or "schema") Assert.True(stringStates > 0, "no state inside a string body was compared");
    }
}
