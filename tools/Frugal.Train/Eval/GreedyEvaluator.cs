using Frugal.Evaluation;
using Frugal.Train.Bpe;
using Frugal.Train.Model;

namespace Frugal.Train.Eval;

/// <summary>
/// Measures a model with the trainer's own forward pass: greedy accuracy on held-out task items and perplexity on
/// held-out stories. Each generated token reruns the whole sequence (no KV cache): simple, and fast enough here.
/// </summary>
public sealed class GreedyEvaluator(Weights weights, BpeTokenizer tokenizer, int threads = 2)
{
    public AccuracyEstimate Accuracy(IReadOnlyList<EvalItem> items, Action<EvalItem, string, bool>? onItem = null)
    {
        var correct = new bool[items.Count];
        var passes = new SequencePass[threads];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, w =>
        {
            var pass = passes[w] = new SequencePass(weights, weights.Shape.Context);
            for (int i = w; i < items.Count; i += threads)
            {
                var (text, eos) = Continue(pass, items[i].Prompt, items[i].Expected.Length + items[i].Terminator.Length);
                correct[i] = HeldOutSets.IsCorrect(items[i], text, eos);
                lock (correct) onItem?.Invoke(items[i], text, correct[i]);
            }
        });
        return new AccuracyEstimate(correct.Count(c => c), items.Count);
    }

    /// <summary>Greedy continuation of BOS + prompt until EOS or <paramref name="maxChars"/> characters.</summary>
    public (string Text, bool EndedWithEos) Continue(SequencePass pass, string prompt, int maxChars)
    {
        var ids = new List<int> { tokenizer.Bos };
        ids.AddRange(tokenizer.Encode(prompt));
        int promptLength = ids.Count;
        int vocab = weights.Shape.Vocab;
        while (ids.Count < weights.Shape.Context)
        {
            pass.Forward(ids.ToArray());
            var last = pass.Logits(ids.Count).Slice((ids.Count - 1) * vocab, vocab);
            int next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(last);
            if (next == tokenizer.Eos) return (tokenizer.Decode(ids.Skip(promptLength)), true);
            ids.Add(next);
            string text = tokenizer.Decode(ids.Skip(promptLength));
            if (text.Length >= maxChars) return (text, false);
        }
        return (tokenizer.Decode(ids.Skip(promptLength)), false);
    }

    /// <summary>Perplexity over BOS story EOS of each text: exp(mean NLL of every token after BOS).</summary>
    public (double Perplexity, int Tokens) Perplexity(IReadOnlyList<string> texts)
    {
        var nll = new double[threads];
        var count = new int[threads];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, w =>
        {
            var pass = new SequencePass(weights, weights.Shape.Context);
            int vocab = weights.Shape.Vocab;
            for (int i = w; i < texts.Count; i += threads)
            {
                int[] ids = [tokenizer.Bos, .. tokenizer.Encode(texts[i]), tokenizer.Eos];
                if (ids.Length > weights.Shape.Context + 1) ids = ids[..(weights.Shape.Context + 1)];
                pass.Forward(ids.AsSpan(0, ids.Length - 1));
                var logits = pass.Logits(ids.Length - 1);
                var probs = new float[vocab];
                for (int t = 0; t + 1 < ids.Length; t++)
                {
                    System.Numerics.Tensors.TensorPrimitives.SoftMax(logits.Slice(t * vocab, vocab), probs);
                    nll[w] -= Math.Log(Math.Max(probs[ids[t + 1]], 1e-30f));
                    count[w]++;
                }
            }
        });
        int n = count.Sum();
        return (Math.Exp(nll.Sum() / n), n);
    }
}
