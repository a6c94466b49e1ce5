using Frugal.Evaluation;
using Frugal.Train.Bpe;
using Frugal.Train.Training;

namespace Frugal.Tests.Training;

public class RowBatcherTests
{
    private static readonly BpeTokenizer Tok = BpeTokenizer.Load(Path.Combine(ShippedModels.Directory, "tokenizer.json"));

    private static string ScoredText(TrainingRow row) =>
        Tok.Decode(row.Targets.Where(t => t >= 0 && t != Tok.Eos).ToList());

    [Fact]
    public void Answers_only_scores_the_arithmetic_answer_and_not_the_random_operands()
    {
        var batcher = new RowBatcher(new CorpusGenerator(11), Tok, context: 512, answersOnly: true);
        var row = batcher.ShortRow(64, [0, 1, 0, 0]);
        string input = Tok.Decode(row.Tokens.Where(t => t != Tok.Bos && t != Tok.Eos).ToList());
        Assert.Contains('=', input);
        // Every scored token is an answer digit or EOS: no operand digit, '+', '-' or '=' is a target.
        foreach (int t in row.Targets.Where(t => t >= 0))
            Assert.True(t == Tok.Eos || char.IsAsciiDigit(Tok.Decode([t]).Single()), $"scored '{Tok.Decode([t])}'");
        // Each complete problem in the row contributes its 4-digit (3 for subtraction) answer and EOS.
        int problems = row.Targets.Count(t => t == Tok.Eos);
        Assert.InRange(row.Scored, problems * 4, problems * 5 + 5);
    }

    [Fact]
    public void Answers_only_skips_the_codes_inside_recall_facts_but_scores_the_filler_and_answers()
    {
        var batcher = new RowBatcher(new CorpusGenerator(12), Tok, context: 512, answersOnly: true);
        var row = batcher.LongRow();
        string text = Tok.Decode([.. row.Tokens]);
        int questions = text.IndexOf('?');
        Assert.True(questions > 0, "the long row keeps its questions");
        string scored = ScoredText(row);
        Assert.Contains("The code for", scored);
        // The facts' codes are never targets before the first question; the answers restate them after it.
        var answer = System.Text.RegularExpressions.Regex.Match(text[questions..], @"The code for \w+ is (\d{4})\.");
        Assert.True(answer.Success, text[questions..]);
        Assert.Contains(answer.Groups[1].Value, scored);
        var plain = new RowBatcher(new CorpusGenerator(12), Tok, context: 512);
        Assert.True(plain.LongRow().Scored > row.Scored);
    }

    [Fact]
    public void Recall_answer_digits_carry_the_configured_loss_weight_and_nothing_else_does()
    {
        var batcher = new RowBatcher(new CorpusGenerator(12), Tok, context: 512, answersOnly: true, recallAnswerWeight: 4f);
        var row = batcher.LongRow();
        int firstQuestion = Array.IndexOf(row.Tokens, Tok.Encode("?").Single());
        Assert.True(firstQuestion > 0);
        int heavy = 0;
        for (int i = 0; i < row.Targets.Length; i++)
        {
            if (row.Targets[i] < 0) { Assert.Equal(0f, row.Weights[i]); continue; }
            bool answerDigit = i >= firstQuestion && Tok.Decode([row.Targets[i]]) is [char c] && char.IsAsciiDigit(c);
            Assert.Equal(answerDigit ? 4f : 1f, row.Weights[i]);
            if (answerDigit) heavy++;
        }
        // Every answer restates a 4-digit code (the last one may be cut by the context).
        Assert.InRange(heavy, 4, 16);
    }

    [Fact]
    public void Arithmetic_answer_digits_carry_their_own_weight_and_the_end_of_document_does_not()
    {
        var batcher = new RowBatcher(new CorpusGenerator(11), Tok, context: 512, answersOnly: true, recallAnswerWeight: 4f, arithmeticAnswerWeight: 3f);
        var row = batcher.ShortRow(64, [0, 1, 0, 0]);
        int digits = 0;
        for (int i = 0; i < row.Targets.Length; i++)
        {
            if (row.Targets[i] < 0) { Assert.Equal(0f, row.Weights[i]); continue; }
            bool digit = Tok.Decode([row.Targets[i]]) is [char c] && char.IsAsciiDigit(c);
            Assert.Equal(digit ? 3f : 1f, row.Weights[i]);
            Assert.True(digit || row.Targets[i] == Tok.Eos);
            if (digit) digits++;
        }
        int problems = row.Targets.Count(t => t == Tok.Eos);
        Assert.True(problems >= 2, $"{problems} problems in the row");
        Assert.InRange(digits, problems * 3, problems * 4 + 4);
    }
}
