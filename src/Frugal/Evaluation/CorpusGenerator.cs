namespace Frugal.Evaluation;

/// <summary>
/// The seeded training corpus: an endless, deterministic stream of documents of every kind, none of them on the
/// held-out side of <see cref="HeldOutSplit"/>. The same seed gives the same stream, document for document.
/// </summary>
public sealed class CorpusGenerator
{
    private readonly SplitMix64 _rng;
    private readonly int _recallFillerChars;

    /// <param name="seed">the corpus seed.</param>
    /// <param name="recallFillerChars">filler length of recall documents; training draws lengths up to this.</param>
    public CorpusGenerator(ulong seed, int recallFillerChars = RecallDefaults.FillerChars)
    {
        _rng = new SplitMix64(SplitMix64.Derive(seed, "train-corpus"));
        _recallFillerChars = recallFillerChars;
    }

    /// <param name="kind">the kind of document.</param>
    /// <param name="recallFillerChars">
    /// for recall: draw the filler length uniformly up to this many characters (short recall documents that fit a
    /// short training row, so the lookup is learnt from many cheap examples); null for the full-length documents.
    /// </param>
    public CorpusDocument Next(DocumentKind kind, int? recallFillerChars = null) => kind switch
    {
        DocumentKind.Story => new(kind, TrainingStory()),
        DocumentKind.Arithmetic => new(kind, Document(ArithmeticTask.Draw(_rng, heldOut: false, threeDigitAddition: false))),
        DocumentKind.Copy => new(kind, CopyTask.Document(CopyTask.Draw(_rng, heldOut: false))),
        // Mostly full-length documents (the case that is measured), some shorter ones so recall is learnt at every distance.
        DocumentKind.Recall when recallFillerChars is int max => new(kind, RecallTask.TrainingDocument(_rng, _rng.Next(0, Math.Max(1, max)))),
        DocumentKind.Recall => new(kind, RecallTask.TrainingDocument(_rng, _rng.Next(4) == 0 ? _rng.Next(100, _recallFillerChars) : _recallFillerChars - 100)),
        DocumentKind.Chain => new(kind, ChainTask.TrainingDocument(_rng)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown document kind"),
    };

    /// <summary>
    /// Picks a kind by the given weights (in <see cref="DocumentKind"/> order; kinds past the end of a shorter list
    /// weigh 0, so mixes written before a kind existed draw the same stream), then draws a document of it.
    /// </summary>
    public CorpusDocument Next(ReadOnlySpan<double> weights, int? recallFillerChars = null)
    {
        int kinds = Enum.GetValues<DocumentKind>().Length;
        if (weights.Length is < 4 || weights.Length > kinds)
            throw new ArgumentException($"expected 4 to {kinds} weights, one per DocumentKind in order, got {weights.Length}", nameof(weights));
        double total = 0;
        foreach (var w in weights) total += w;
        double x = _rng.NextDouble() * total;
        for (int k = 0; k < weights.Length; k++)
        {
            x -= weights[k];
            if (x < 0) return Next((DocumentKind)k, recallFillerChars);
        }
        return Next(DocumentKind.Story);
    }

    private string TrainingStory()
    {
        while (true)
        {
            string story = StoryGrammar.Story(_rng);
            if (!HeldOutSplit.IsHeldOut(story)) return story;
        }
    }

    private static string Document(EvalItem item) => item.Prompt + item.Expected;
}

/// <summary>Sizes shared by training and evaluation of recall.</summary>
public static class RecallDefaults
{
    /// <summary>
    /// Characters of filler between the asked fact and the question. The shipped tokenizer averages about 3.7
    /// characters a token on this filler (middle-of-story sentences), so this puts the key 420-475 tokens back while
    /// the whole item (432-486 tokens) fits in 512.
    /// </summary>
    public const int FillerChars = 1650;
}
