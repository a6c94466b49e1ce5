using System.Globalization;
using System.Text;

namespace Frugal.Evaluation;

/// <summary>
/// Key-value recall over a long context: facts "The code for Anna is 4821." are scattered through story sentences,
/// and questions "What is the code for Anna? The code for Anna is 4821." follow at the end. In the held-out form the asked fact opens the
/// document, so the key is as far back as the filler is long (sized so that it is 400+ tokens back).
/// </summary>
public static class RecallTask
{
    /// <summary>The canonical form of a fact that decides the held-out split ("Anna=4821").</summary>
    public static string Canonical(string name, int code) => string.Create(CultureInfo.InvariantCulture, $"{name}={code}");

    /// <summary>A training document: 3-5 facts at random places in about <paramref name="fillerChars"/> of filler, then 2-3 questions.</summary>
    public static string TrainingDocument(SplitMix64 rng, int fillerChars)
    {
        var facts = DrawFacts(rng, rng.Next(3, 6), heldOut: false);
        var sentences = Filler(rng, fillerChars);
        foreach (var (name, code) in facts)
            sentences.Insert(rng.Next(sentences.Count + 1), Fact(name, code));
        var sb = new StringBuilder(string.Join(" ", sentences)).Append('\n');
        int questions = rng.Next(2, 4);
        for (int q = 0; q < questions; q++)
        {
            var (name, code) = rng.Pick(facts);
            sb.Append(Question(name)).Append(Answer(name, code)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// A held-out item: the asked fact first, then 2-4 distractor facts among about <paramref name="fillerChars"/> of
    /// filler, then the question. Every fact in it is on the held-out side of the split (the training side with
    /// <paramref name="heldOut"/> false: a validation item of the same form).
    /// </summary>
    public static EvalItem Draw(SplitMix64 rng, int fillerChars, bool heldOut = true)
    {
        var facts = DrawFacts(rng, rng.Next(3, 6), heldOut);
        var sentences = Filler(rng, fillerChars);
        for (int i = 1; i < facts.Count; i++)
            sentences.Insert(rng.Next(1, sentences.Count + 1), Fact(facts[i].Name, facts[i].Code));
        var (name, code) = facts[0];
        string prompt = Fact(name, code) + " " + string.Join(" ", sentences) + "\n" + Question(name);
        return new EvalItem(prompt, Answer(name, code));
    }

    public static string Fact(string name, int code) => string.Create(CultureInfo.InvariantCulture, $"The code for {name} is {code}.");

    public static string Question(string name) => $"What is the code for {name}?";

    /// <summary>
    /// The answer restates the fact (" The code for Anna is 4821."): the code then follows the same words as in the
    /// fact, which is the pattern-completion (induction) a small transformer learns first; a bare " 4821" after the
    /// question needs a two-step lookup that a 1500-step run on 45,000 questions did not learn at all.
    /// </summary>
    public static string Answer(string name, int code) => " " + Fact(name, code);

    private static List<(string Name, int Code)> DrawFacts(SplitMix64 rng, int count, bool heldOut)
    {
        var facts = new List<(string Name, int Code)>();
        while (facts.Count < count)
        {
            string name = rng.Pick(WordLists.Names);
            int code = rng.Next(1000, 10000);
            if (facts.Exists(f => f.Name == name) || HeldOutSplit.IsHeldOut(Canonical(name, code)) != heldOut) continue;
            facts.Add((name, code));
        }
        return facts;
    }

    private static List<string> Filler(SplitMix64 rng, int chars)
    {
        var sentences = new List<string>();
        int length = 0;
        while (length < chars)
        {
            string s = StoryGrammar.Sentence(rng);
            sentences.Add(s);
            length += s.Length + 1;
        }
        return sentences;
    }
}
