using Frugal.Evaluation;
using Frugal.Train.Bpe;

namespace Frugal.Train.Training;

/// <summary>One training row: input tokens and next-token targets (-1 = not scored).</summary>
public sealed record TrainingRow(int[] Tokens, int[] Targets)
{
    public int Scored => Targets.Count(t => t >= 0);
}

/// <summary>
/// Turns the corpus stream into rows: short rows pack whole short documents (stories, arithmetic, copies), each as
/// BOS text EOS; long rows hold one recall document each, padded. Padding and document starts are not scored.
/// </summary>
public sealed class RowBatcher
{
    private readonly CorpusGenerator _corpus;
    private readonly BpeTokenizer _tok;
    private readonly int _context;
    private int[]? _pending;

    public RowBatcher(CorpusGenerator corpus, BpeTokenizer tokenizer, int context)
    {
        _corpus = corpus;
        _tok = tokenizer;
        _context = context;
    }

    public int[] Document(CorpusDocument doc) => [_tok.Bos, .. _tok.Encode(doc.Text), _tok.Eos];

    public TrainingRow ShortRow(int length, ReadOnlySpan<double> mix)
    {
        var tokens = new List<int>(length + 1);
        while (tokens.Count < length + 1)
        {
            var doc = _pending ?? Document(_corpus.Next(mix));
            _pending = null;
            if (doc.Length > length + 1) doc = doc[..(length + 1)];
            if (tokens.Count > 0 && tokens.Count + doc.Length > length + 1) { _pending = doc; break; }
            tokens.AddRange(doc);
        }
        return Finish(tokens, length);
    }

    public TrainingRow LongRow()
    {
        var doc = Document(_corpus.Next(DocumentKind.Recall));
        if (doc.Length > _context + 1) doc = doc[..(_context + 1)];
        return Finish([.. doc], doc.Length - 1);
    }

    private TrainingRow Finish(List<int> tokens, int length)
    {
        int n = Math.Min(length, tokens.Count - 1);
        var input = new int[n];
        var target = new int[n];
        for (int i = 0; i < n; i++)
        {
            input[i] = tokens[i];
            target[i] = tokens[i + 1] == _tok.Bos ? -1 : tokens[i + 1];
        }
        return new TrainingRow(input, target);
    }
}
