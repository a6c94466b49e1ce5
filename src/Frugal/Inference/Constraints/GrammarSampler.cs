using System.Text;

namespace Frugal.Inference.Constraints;

/// <summary>
/// Random sentences of a grammar, for tests and the mask benchmark: alternatives are chosen at random until the
/// sentence reaches a length budget, then along the shallowest derivation, so every walk ends. Characters are drawn
/// from each set, mostly printable ASCII when the set has some, sometimes any code point it holds.
/// </summary>
internal sealed class GrammarSampler
{
    private readonly GbnfGrammar _g;
    private readonly int[] _height;        // [rules] depth of the rule's shallowest complete derivation
    private readonly int[] _shallowest;    // [rules] the alternative that achieves it

    public GrammarSampler(GbnfGrammar grammar)
    {
        _g = grammar;
        int n = grammar.RuleAlternatives.Length;
        _height = new int[n];
        _shallowest = new int[n];
        Array.Fill(_height, int.MaxValue);
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int r = 0; r < n; r++)
            {
                var alts = grammar.RuleAlternatives[r];
                for (int a = 0; a < alts.Length; a++)
                {
                    int h = 0;
                    for (int i = alts[a]; grammar.Elements[i].Kind != GbnfElementKind.End && h != int.MaxValue; i++)
                        if (grammar.Elements[i].Kind == GbnfElementKind.Rule)
                            h = Math.Max(h, _height[grammar.Elements[i].Index]);
                    if (h != int.MaxValue && h + 1 < _height[r]) { _height[r] = h + 1; _shallowest[r] = a; changed = true; }
                }
            }
        }
        if (_height[grammar.Root] == int.MaxValue) throw new GrammarFormatException("the grammar has no finite sentence");
    }

    /// <summary>A sentence of the grammar; past about <paramref name="budget"/> characters it closes as fast as it can.</summary>
    public string Sample(Random rng, int budget = 200)
    {
        var sb = new StringBuilder();
        Expand(_g.Root, rng, sb, budget, 0);
        return sb.ToString();
    }

    private void Expand(int rule, Random rng, StringBuilder sb, int budget, int depth)
    {
        var alts = _g.RuleAlternatives[rule];
        bool open = sb.Length < budget && depth < 400;
        int a = open ? rng.Next(alts.Length) : _shallowest[rule];
        if (open && _height[RuleOf(alts[a])] == int.MaxValue) a = _shallowest[rule];
        for (int i = alts[a]; _g.Elements[i].Kind != GbnfElementKind.End; i++)
        {
            var e = _g.Elements[i];
            if (e.Kind == GbnfElementKind.Rule) Expand(e.Index, rng, sb, budget, depth + 1);
            else sb.Append(char.ConvertFromUtf32(_g.Sets[e.Index].Pick(rng)));
        }
    }

    /// <summary>The deepest rule the alternative refers to (the root when it refers to none), to tell whether the
    /// alternative has a finite derivation at all.</summary>
    private int RuleOf(int start)
    {
        int worst = _g.Root, h = 0;
        for (int i = start; _g.Elements[i].Kind != GbnfElementKind.End; i++)
            if (_g.Elements[i].Kind == GbnfElementKind.Rule && _height[_g.Elements[i].Index] >= h) { h = _height[_g.Elements[i].Index]; worst = _g.Elements[i].Index; }
        return worst;
    }
}
