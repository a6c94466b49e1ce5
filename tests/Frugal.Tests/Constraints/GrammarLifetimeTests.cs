using System.Runtime.CompilerServices;
using System.Text.Json;
using Frugal.Inference.Constraints;
using Frugal.Models.Synthetic;
using Frugal.Tests.Models;
using Frugal.Tokenization;

namespace Frugal.Tests.Constraints;

/// <summary>
/// A request's grammar (and the automaton and masks built for it) must be collectable once the request is done,
/// while the vocabulary's token trie lives on: the server compiles one per json_schema or tool request.
/// </summary>
public class GrammarLifetimeTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference UseOnce(Tokenizer tokenizer, int n)
    {
        var grammar = JsonSchemaGrammar.Compile(JsonDocument.Parse($$$"""{"type":"object","properties":{"k{{{n}}}":{"type":"string"}},"required":["k{{{n}}}"]}""").RootElement);
        var matcher = new GrammarMatcher(grammar, tokenizer);
        Assert.True(matcher.AcceptText("{\"k"));
        Assert.True(matcher.AllowedTokens().Count > 0);
        return new WeakReference(grammar);
    }

    [Fact]
    public void A_grammar_and_its_tables_are_collected_after_use()
    {
        using var file = Frugal.Gguf.GgufFile.Open(SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, seed: 77)));
        var tokenizer = Tokenizer.FromGguf(file);
        var used = Enumerable.Range(0, 20).Select(n => UseOnce(tokenizer, n)).ToList();
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.Equal(0, used.Count(w => w.IsAlive));
        GC.KeepAlive(tokenizer);
    }
}
