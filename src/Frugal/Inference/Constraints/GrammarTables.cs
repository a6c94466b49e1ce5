using System.Runtime.CompilerServices;

namespace Frugal.Inference.Constraints;

/// <summary>
/// The automaton and the masks computed so far for one (grammar, vocabulary) pair, shared by every sequence that
/// decodes under that grammar: the second request for JSON finds the states and masks the first one built. Callers
/// hold <see cref="Gate"/> while they touch it. When it outgrows its bounds, new sequences get a fresh one; sequences
/// already running keep theirs (each adds at most a few hundred states per token).
/// </summary>
internal sealed class GrammarTables
{
    /// <summary>Automaton states before new sequences start a fresh table (each state holds a 1 KB transition row).</summary>
    private const int MaxStates = 20_000;

    /// <summary>Masks kept (each is vocab / 8 bytes: 19 KB for a 152K vocabulary).</summary>
    public const int MaxMasks = 1024;

    // Vocabulary outside, grammar inside: a holder references its grammar (through the automaton), which an ephemeron
    // keyed by that grammar allows. Keyed the other way round (grammar outside, trie inside) the inner entry's handle
    // kept every holder alive as long as the long-lived trie, and with it every per-request grammar: the server grew
    // by ~1 MB per json_schema or tool request (Frugal.Bench soak).
    private static readonly ConditionalWeakTable<TokenTrie, ConditionalWeakTable<GbnfGrammar, Holder>> Shared = new();

    private GrammarTables(GbnfGrammar grammar) => Automaton = new GrammarAutomaton(grammar);

    public object Gate { get; } = new();

    public GrammarAutomaton Automaton { get; }

    public Dictionary<int, GrammarMask> Masks { get; } = new();

    /// <summary>[vocab / 64] the bit set a mask is computed in, all zero between computations (under <see cref="Gate"/>).</summary>
    public ulong[] Scratch(int vocab) => _scratch ??= new ulong[(vocab + 63) / 64];

    /// <summary>Hands the scratch set to a mask that keeps it; the next <see cref="Scratch"/> allocates another.</summary>
    public void TakeScratch() => _scratch = null;

    private ulong[]? _scratch;

    public static GrammarTables For(GbnfGrammar grammar, TokenTrie trie)
    {
        var holder = Shared.GetValue(trie, _ => new()).GetValue(grammar, _ => new Holder());
        lock (holder)
        {
            if (holder.Tables is null || holder.Tables.Automaton.StateCount > MaxStates)
                holder.Tables = new GrammarTables(grammar);
            return holder.Tables;
        }
    }

    private sealed class Holder
    {
        public GrammarTables? Tables;
    }
}

/// <summary>One step's allowed tokens: their count, one of them, how many are text (not end), and either the ids as a
/// list when they are few (then applying the mask is a fill and a scatter) or a bit set over ids. Only one of the two
/// is kept: a bit set is vocab / 8 bytes (19 KB for a 152K vocabulary), and most masks outside strings hold a few
/// hundred ids, so keeping both made every mask allocate, zero and (cached) promote 19 KB through the GC, ~30% of the
/// corpus bench's mask time.</summary>
internal sealed record GrammarMask(ulong[]? Bits, int Count, int Any, int TextTokens, int[]? Ids);
