namespace Frugal.Inference.Constraints;

/// <summary>
/// A compiled GBNF grammar: every rule's alternatives laid out in one flat element array (each alternative ends with
/// an End element), so a parse position is one int, as in llama.cpp's grammar. Immutable and shareable between
/// requests; the per-sequence state lives in <see cref="GrammarMatcher"/>.
/// </summary>
public sealed class GbnfGrammar
{
    internal GbnfElement[] Elements { get; }   // [total elements] all alternatives, each terminated by End
    internal int[][] RuleAlternatives { get; } // [rules][alternatives] start index into Elements
    internal CodepointSet[] Sets { get; }
    internal int Root { get; }

    /// <summary>The grammar's source text (GBNF).</summary>
    public string Text { get; }

    public int RuleCount => RuleAlternatives.Length;

    private GbnfGrammar(string text, GbnfParser parsed)
    {
        Text = text;
        Sets = [.. parsed.Sets];
        var elements = new List<GbnfElement>();
        RuleAlternatives = new int[parsed.Rules.Count][];
        for (int r = 0; r < parsed.Rules.Count; r++)
        {
            var alts = parsed.Rules[r]!;
            RuleAlternatives[r] = new int[alts.Count];
            for (int a = 0; a < alts.Count; a++)
            {
                RuleAlternatives[r][a] = elements.Count;
                elements.AddRange(alts[a]);
                elements.Add(GbnfElement.End);
            }
        }
        Elements = [.. elements];
        Root = parsed.Names.IndexOf("root");
        RefuseLeftRecursion(parsed.Names);
    }

    /// <summary>Parses GBNF text.</summary>
    /// <exception cref="GrammarFormatException">a syntax error (with line and column), an undefined rule, no root rule,
    /// or left recursion (which an incremental stack matcher cannot run, as in llama.cpp).</exception>
    public static GbnfGrammar Parse(string text) => new(text, GbnfParser.Parse(text));

    /// <summary>
    /// A rule that can reach itself again before consuming a character (directly or through rules that may be empty)
    /// would expand forever; llama.cpp refuses it the same way.
    /// </summary>
    private void RefuseLeftRecursion(List<string> names)
    {
        int n = RuleAlternatives.Length;
        var nullable = new bool[n];
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int r = 0; r < n; r++)
            {
                if (nullable[r]) continue;
                foreach (int start in RuleAlternatives[r])
                {
                    bool empty = true;
                    for (int i = start; Elements[i].Kind != GbnfElementKind.End; i++)
                        if (Elements[i].Kind == GbnfElementKind.Chars || !nullable[Elements[i].Index]) { empty = false; break; }
                    if (empty) { nullable[r] = true; changed = true; break; }
                }
            }
        }
        // Edges r -> s when s can appear at the left edge of r.
        var left = new List<int>[n];
        for (int r = 0; r < n; r++)
        {
            left[r] = [];
            foreach (int start in RuleAlternatives[r])
                for (int i = start; Elements[i].Kind == GbnfElementKind.Rule; i++)
                {
                    left[r].Add(Elements[i].Index);
                    if (!nullable[Elements[i].Index]) break;
                }
        }
        var color = new byte[n]; // 0 new, 1 on the path, 2 done
        var path = new List<int>();
        for (int r = 0; r < n; r++)
            if (color[r] == 0) Visit(r);

        void Visit(int r)
        {
            color[r] = 1;
            path.Add(r);
            foreach (int s in left[r])
            {
                if (color[s] == 1)
                {
                    string cycle = string.Join(" -> ", path.Skip(path.IndexOf(s)).Append(s).Select(Display));
                    throw new GrammarFormatException($"grammar is left recursive ({cycle}): rewrite the rule so it consumes a character before referring to itself");
                }
                if (color[s] == 0) Visit(s);
            }
            path.RemoveAt(path.Count - 1);
            color[r] = 2;
        }

        string Display(int r) => names[r];
    }
}
