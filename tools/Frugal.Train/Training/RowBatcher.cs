using Frugal.Evaluation;
using Frugal.Train.Bpe;

namespace Frugal.Train.Training;

/// <summary>One training row: input tokens, next-token targets (-1 = not scored) and each target's loss weight.</summary>
public sealed record TrainingRow(int[] Tokens, int[] Targets, float[] Weights)
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
    private readonly float _recallAnswerWeight, _arithmeticAnswerWeight;
    private readonly int _equals, _question, _newline;
    private readonly HashSet<int> _digits;
    private (int[] Tokens, float[] Weight)? _pending;

    /// <param name="answersOnly">
    /// do not score the random parts of task documents (arithmetic operands, the codes inside recall facts):
    /// predicting them is noise that slows learning the rule.
    /// </param>
    /// <param name="recallAnswerWeight">
    /// loss weight of the code digits in recall answers: of the ~12 answer tokens only the first code digit needs the
    /// lookup (the rest follow by copying), so its signal is a small share of the loss unless weighted up.
    /// </param>
    /// <param name="arithmeticAnswerWeight">
    /// loss weight of the answer digits of arithmetic documents, so that learning the recall lookup (weighted up) does
    /// not take over the heads that add: each answer digit reads two operand digits at fixed offsets, and the first one
    /// (read at "=") at offsets no other digit uses.
    /// </param>
    public RowBatcher(CorpusGenerator corpus, BpeTokenizer tokenizer, int context, bool answersOnly = false, float recallAnswerWeight = 1f,
        float arithmeticAnswerWeight = 1f)
    {
        _recallAnswerWeight = recallAnswerWeight;
        _arithmeticAnswerWeight = arithmeticAnswerWeight;
        _corpus = corpus;
        _tok = tokenizer;
        _context = context;
        _answersOnly = answersOnly;
        _equals = SingleToken("=");
        _question = SingleToken("?");
        _newline = SingleToken("\n");
        _digits = [.. "0123456789".Select(c => SingleToken(c.ToString()))];
    }

    private int SingleToken(string text) => _tok.Encode(text) is [int id] ? id : -1;

    public int[] Document(CorpusDocument doc) => [_tok.Bos, .. _tok.Encode(doc.Text), _tok.Eos];

    /// <summary>
    /// The document's tokens and, per token, the loss weight of predicting it (0 = not scored). With answers-only
    /// scoring, arithmetic is scored from the answer on (after "="), chained sums from the scratchpad on (after the
    /// prompt's newline, so the operand each step picks is scored as well as its sum); recall everywhere except the random codes inside
    /// the facts (the filler is story text worth learning, the questions and answers are the task). The code digits
    /// of recall answers weigh <c>recallAnswerWeight</c>, the answer digits of arithmetic <c>arithmeticAnswerWeight</c>.
    /// </summary>
    private (int[] Tokens, float[] Weight) Scored(CorpusDocument doc)
    {
        var tokens = Document(doc);
        var weight = new float[tokens.Length];
        bool afterPrompt = false;
        for (int i = 0; i < tokens.Length; i++)
        {
            bool digit = _digits.Contains(tokens[i]);
            bool scored = !_answersOnly || doc.Kind switch
            {
                DocumentKind.Arithmetic or DocumentKind.Chain => afterPrompt,
                DocumentKind.Recall => afterPrompt || !digit,
                _ => true,
            };
            weight[i] = !scored ? 0f : !(afterPrompt && digit) ? 1f : doc.Kind switch
            {
                DocumentKind.Recall => _recallAnswerWeight,
                DocumentKind.Arithmetic => _arithmeticAnswerWeight,
                _ => 1f,
            };
            if (tokens[i] == doc.Kind switch { DocumentKind.Arithmetic => _equals, DocumentKind.Chain => _newline, _ => _question }) afterPrompt = true;
        }
        return (tokens, weight);
    }

    public TrainingRow ShortRow(int length, ReadOnlySpan<double> mix)
    {
        var tokens = new List<int>(length + 1);
        var weight = new List<float>(length + 1);
        while (tokens.Count < length + 1)
        {
            var doc = _pending ?? Scored(_corpus.Next(mix, ShortRecallFillerChars(length)));
            _pending = null;
            if (doc.Tokens.Length > length + 1) doc = (doc.Tokens[..(length + 1)], doc.Weight[..(length + 1)]);
            if (tokens.Count > 0 && tokens.Count + doc.Tokens.Length > length + 1) { _pending = doc; break; }
            tokens.AddRange(doc.Tokens);
            weight.AddRange(doc.Weight);
        }
        return Finish(tokens, weight, length);
    }

    /// <summary>
    /// Filler for recall documents in short rows: 3-5 facts and 2-3 questions with their answers take up to ~120 tokens, the filler at most the
    /// rest of the row (the corpus averages a little over 4 characters a token).
    /// </summary>
    private static int ShortRecallFillerChars(int rowTokens) => Math.Max(40, (rowTokens - 120) * 4);

    public TrainingRow LongRow()
    {
        var (tokens, weight) = Scored(_corpus.Next(DocumentKind.Recall));
        int n = Math.Min(tokens.Length, _context + 1);
        return Finish([.. tokens[..n]], [.. weight[..n]], n - 1);
    }

    private TrainingRow Finish(List<int> tokens, List<float> weight, int length)
    {
        int n = Math.Min(length, tokens.Count - 1);
        var input = new int[n];
        var target = new int[n];
        var targetWeight = new float[n];
        for (int i = 0; i < n; i++)
        {
            input[i] = tokens[i];
            bool scored = tokens[i + 1] != _tok.Bos && weight[i + 1] > 0;
            target[i] = scored ? tokens[i + 1] : -1;
            targetWeight[i] = scored ? weight[i + 1] : 0f;
        }
        return new TrainingRow(input, target, targetWeight);
    }
}
