using System.Numerics.Tensors;
using Frugal.Evaluation;
using Frugal.Models;
using Frugal.Train.Bpe;

namespace Frugal.Train.Distillation;

/// <summary>How often a draft's argmax is the teacher's greedy token, and where it is not.</summary>
public sealed record AgreementReport(int Agreed, int Total, IReadOnlyList<string> Misses)
{
    public double Rate => Total == 0 ? 0 : (double)Agreed / Total;
}

/// <summary>
/// The speculative bench's stories workload without the timing: the first 12 words of held-out stories, continued by
/// the teacher greedily with EOS banned (as <c>--ignore-eos</c> does), and at every continuation position whether the
/// draft's argmax (EOS banned too) is the teacher's token. That is the acceptance of a one-token draft; a draft of k
/// tokens is accepted token by token at about this rate while the draft and teacher agree.
/// </summary>
public static class DraftAgreement
{
    public static AgreementReport Measure(ILanguageModel teacher, ILanguageModel draft, BpeTokenizer tokenizer, int stories, int tokens, int shownMisses = 8)
    {
        var rows = new TeacherRows(teacher, tokenizer, tokens);
        int vocab = tokenizer.VocabSize;
        var cache = draft.CreateCache(tokens);
        var logits = new float[tokens * vocab];
        int agreed = 0, total = 0;
        var misses = new List<string>();
        foreach (string story in HeldOutSets.Stories(stories))
        {
            string opening = string.Join(' ', story.Split(' ').Take(12));
            var row = rows.Continue(opening, banEos: true);
            int promptLength = 1 + tokenizer.Encode(opening).Count;
            cache.Truncate(0);
            draft.Forward(row.Tokens, cache, logits.AsSpan(0, row.Tokens.Length * vocab), allLogits: true);
            for (int t = promptLength - 1; t < row.Tokens.Length; t++)
            {
                var l = logits.AsSpan(t * vocab, vocab);
                l[tokenizer.Eos] = float.NegativeInfinity;
                int guess = TensorPrimitives.IndexOfMax(l);
                total++;
                if (guess == row.Targets[t]) { agreed++; continue; }
                if (misses.Count < shownMisses)
                    misses.Add($"...{Tail(tokenizer.Decode(row.Tokens.Take(t + 1)))} -> teacher '{tokenizer.Decode([row.Targets[t]])}', draft '{tokenizer.Decode([guess])}'");
            }
        }
        return new AgreementReport(agreed, total, misses);
    }

    private static string Tail(string s) => (s.Length > 60 ? s[^60..] : s).Replace("\n", "\\n", StringComparison.Ordinal);
}
