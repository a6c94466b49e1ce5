using System.Text;
using Frugal.Inference.Constraints;

namespace Frugal.Tests.Constraints;

/// <summary>Runs a grammar's byte automaton over whole strings (no tokenizer involved).</summary>
internal static class GrammarText
{
    public static bool Accepts(GbnfGrammar g, string text)
    {
        var a = new GrammarAutomaton(g);
        int s = a.Walk(a.Start, Encoding.UTF8.GetBytes(text));
        return s != GrammarAutomaton.Dead && a.CanEnd(s);
    }

    public static bool IsPrefix(GbnfGrammar g, ReadOnlySpan<byte> bytes)
    {
        var a = new GrammarAutomaton(g);
        return a.Walk(a.Start, bytes) != GrammarAutomaton.Dead;
    }
}
