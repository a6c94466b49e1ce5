using Frugal.Evaluation;
using Frugal.Train.Bpe;
using Frugal.Train.Model;

namespace Frugal.Train.Eval;

/// <summary>
/// Measures a model with the trainer's own forward pass: greedy accuracy on held-out task items and perplexity on
/// held-out stories.
/// </summary>
public sealed class GreedyEvaluator(Weights weights, BpeTokenizer tokenizer, int threads = 2)
{
    /// <summary>
    /// Greedy accuracy, computed teacher-forced in one forward pass per item: the item counts as correct when at
    /// every position of the answer (and its terminator, or EOS) the argmax is the next answer token. That is
    /// exactly "greedy decoding emits these tokens"; a greedy output that spells the answer with a different token
    /// split would count as wrong here, so the figure is never flattered.
    /// </summary>
    public AccuracyEstimate Accuracy(IReadOnlyList<EvalItem> items, Action<EvalItem, string, bool>? onItem = null)
    {
        var correct = new bool[items.Count];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, w =>
        {
            var pass = new SequencePass(weights, weights.Shape.Context);
            int vocab = weights.Shape.Vocab;
            for (int i = w; i < items.Count; i += threads)
            {
                var item = items[i];
                int promptLength = 1 + tokenizer.Encode(item.Prompt).Count;
                int[] full = [tokenizer.Bos, .. tokenizer.Encode(item.Prompt + item.Expected + item.Terminator)];
                if (item.Terminator.Length == 0) full = [.. full, tokenizer.Eos];
                if (full.Length > weights.Shape.Context + 1)
                    throw new ArgumentException($"item needs {full.Length} tokens, more than the context of {weights.Shape.Context}");
                pass.Forward(full.AsSpan(0, full.Length - 1));
                var logits = pass.Logits(full.Length - 1);
                var predicted = new List<int>();
                bool ok = true;
                for (int p = promptLength; p < full.Length; p++)
                {
                    int argmax = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Slice((p - 1) * vocab, vocab));
                    predicted.Add(argmax);
                    ok &= argmax == full[p];
                }
                correct[i] = ok;
                lock (correct) onItem?.Invoke(item, tokenizer.Decode(predicted) + (predicted[^1] == tokenizer.Eos ? "<eos>" : ""), ok);
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
                    Ops.StableSoftMax(logits.Slice(t * vocab, vocab), probs);
                    nll[w] -= Math.Log(Math.Max(probs[ids[t + 1]], 1e-30f));
                    count[w]++;
                }
            }
        });
        int n = count.Sum();
        return (Math.Exp(nll.Sum() / n), n);
    }
}
