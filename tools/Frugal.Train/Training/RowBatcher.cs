using Frugal.Evaluation;
using Frugal.Train.Bpe;

namespace Frugal.Train.Training;

/// <summary>One training row: input tokens and next-token targets (-1 = not scored).</summary>
public sealed record TrainingRow(int[] Tokens, int[] Targets)
{
    public int Scored => Targets.Count(t => t >= 0);
}

/// <summary>
/// Turns the corpus stream into rows: short rows pack whole short documents (stories, arithmetic, copies, recall with short filler), each as
/// BOS text EOS; long rows hold one recall document each, padded. Padding and document starts are not scored.
/// </summary>
public sealed class RowBatcher
{
    private readonly CorpusGenerator _corpus;
    private readonly BpeTokenizer _tok;
    private readonly int _context;
    private readonly bool _answersOnly;
    private readonly int _equals, _question;
    private readonly HashSet<int> _digits;
    private (int[] Tokens, bool[] Scored)? _pending;

    /// <param name="answersOnly">
    /// do not score the random parts of task documents (arithmetic operands, the codes inside recall facts):
    /// predicting them is noise that slows learning the rule.
    /// </param>
    public RowBatcher(CorpusGenerator corpus, BpeTokenizer tokenizer, int context, bool answersOnly = false)
    {
        _corpus = corpus;
        _tok = tokenizer;
        _context = context;
        _answersOnly = answersOnly;
        _equals = SingleToken("=");
        _question = SingleToken("?");
        _digits = [.. "0123456789".Select(c => SingleToken(c.ToString()))];
    }

    private int SingleToken(string text) => _tok.Encode(text) is [int id] ? id : -1;

    public int[] Document(CorpusDocument doc) => [_tok.Bos, .. _tok.Encode(doc.Text), _tok.Eos];

    /// <summary>
    /// The document's tokens and, per token, whether predicting it is scored. With answers-only scoring, arithmetic
    /// is scored from the answer on (after "="); recall everywhere except the random codes inside the facts (the
    /// filler is story text worth learning, the questions and answers are the task).
    /// </summary>
    private (int[] Tokens, bool[] Scored) Scored(CorpusDocument doc)
    {
        var tokens = Document(doc);
        var scored = new bool[tokens.Length];
        bool afterPrompt = false;
        for (int i = 0; i < tokens.Length; i++)
        {
            scored[i] = !_answersOnly || doc.Kind switch
            {
                DocumentKind.Arithmetic => afterPrompt,
                DocumentKind.Recall => afterPrompt || !_digits.Contains(tokens[i]),
                _ => true,
            };
            if (tokens[i] == (doc.Kind == DocumentKind.Arithmetic ? _equals : _question)) afterPrompt = true;
        }
        return (tokens, scored);
    }

    public TrainingRow ShortRow(int length, ReadOnlySpan<double> mix)
    {
        var tokens = new List<int>(length + 1);
        var scored = new List<bool>(length + 1);
        while (tokens.Count < length + 1)
        {
            var doc = _pending ?? Scored(_corpus.Next(mix, ShortRecallFillerChars(length)));
            _pending = null;
            if (doc.Tokens.Length > length + 1) doc = (doc.Tokens[..(length + 1)], doc.Scored[..(length + 1)]);
            if (tokens.Count > 0 && tokens.Count + doc.Tokens.Length > length + 1) { _pending = doc; break; }
            tokens.AddRange(doc.Tokens);
            scored.AddRange(doc.Scored);
        }
        return Finish(tokens, scored, length);
    }

    /// <summary>
    /// Filler for recall documents in short rows: 3-5 facts and 2-3 questions with their answers take up to ~120 tokens, the filler at most the
    /// rest of the row (the corpus averages a little over 4 characters a token).
    /// </summary>
    private static int ShortRecallFillerChars(int rowTokens) => Math.Max(40, (rowTokens - 120) * 4);

    public TrainingRow LongRow()
    {
        var (tokens, scored) = Scored(_corpus.Next(DocumentKind.Recall));
        int n = Math.Min(tokens.Length, _context + 1);
        return Finish([.. tokens[..n]], [.. scored[..n]], n - 1);
    }

    private TrainingRow Finish(List<int> tokens, List<bool> scored, int length)
    {
        int n = Math.Min(length, tokens.Count - 1);
        var input = new int[n];
        var target = new int[n];
        for (int i = 0; i < n; i++)
        {
            input[i] = tokens[i];
            target[i] = tokens[i + 1] == _tok.Bos || !scored[i + 1] ? -1 : tokens[i + 1];
        }
        return new TrainingRow(input, target);
    }
}
