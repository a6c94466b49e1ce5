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
    private readonly int _equals, _question, _newline;
    private (int[] Tokens, bool[] Scored)? _pending;

    /// <param name="answersOnly">
    /// score only the answers of arithmetic and recall documents (after "=", and after each "?" through its newline):
    /// operands and codes in facts are random, so predicting them is noise that slows learning the rule.
    /// </param>
    public RowBatcher(CorpusGenerator corpus, BpeTokenizer tokenizer, int context, bool answersOnly = false)
    {
        _corpus = corpus;
        _tok = tokenizer;
        _context = context;
        _answersOnly = answersOnly;
        _equals = SingleToken("=");
        _question = SingleToken("?");
        _newline = SingleToken("\n");
    }

    private int SingleToken(string text) => _tok.Encode(text) is [int id] ? id : -1;

    public int[] Document(CorpusDocument doc) => [_tok.Bos, .. _tok.Encode(doc.Text), _tok.Eos];

    /// <summary>The document's tokens and, per token, whether predicting it is scored.</summary>
    private (int[] Tokens, bool[] Scored) Scored(CorpusDocument doc)
    {
        var tokens = Document(doc);
        var scored = new bool[tokens.Length];
        bool task = _answersOnly && doc.Kind is DocumentKind.Arithmetic or DocumentKind.Recall;
        bool answer = false;
        for (int i = 0; i < tokens.Length; i++)
        {
            scored[i] = !task || answer;
            if (!task) continue;
            if (tokens[i] == _equals && doc.Kind == DocumentKind.Arithmetic) answer = true;
            if (doc.Kind == DocumentKind.Recall)
            {
                if (tokens[i] == _question) answer = true;
                else if (tokens[i] == _newline && answer) answer = false;
            }
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
    /// Filler for recall documents in short rows: the facts and questions take ~60 tokens, the filler at most the
    /// rest of the row (the corpus averages a little over 4 characters a token).
    /// </summary>
    private static int ShortRecallFillerChars(int rowTokens) => Math.Max(40, (rowTokens - 60) * 4);

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
