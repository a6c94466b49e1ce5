using System.Diagnostics;
using System.Globalization;
using Frugal.Inference.Generation;
using Frugal.Inference.Sampling;
using Frugal.Inference.Speculation;
using Frugal.Models;
using Frugal.Tokenization;

namespace Frugal.Bench;

/// <summary>
/// What prompt lookup could gain on a workload with this model's verify costs, from the greedy continuations alone (no
/// clock in the loop): the controller replayed on step costs measured once (each step costs the measured time of its
/// row count), and an oracle that knows in advance how many drafted tokens will be accepted and drafts exactly those.
/// The oracle is an upper bound for any lookup draft-length policy: when it is below a goal, no controller reaches it.
/// </summary>
internal static class SpeculativeBound
{
    public static void Print(ILanguageModel model, Tokenizer tokenizer, string name, string[] prompts, int tokens, int draftMax = 8,
        IReadOnlyList<string>? stop = null)
    {
        double[] cost = StepCosts(model, draftMax + 1);
        var generator = new TextGenerator(model, tokenizer);
        var options = new GenerationOptions { MaxTokens = tokens, IgnoreEos = stop is null, StopStrings = stop ?? [], Sampling = SamplingOptions.Greedy };
        var runs = prompts.Select(p => (Prompt: tokenizer.Encode(p), Output: generator.Generate(p, options).Tokens.ToArray())).ToArray();
        string Replay(bool oracle)
        {
            double spent = 0;
            long produced = 0, drafted = 0, accepted = 0;
            foreach (var (prompt, output) in runs)
            {
                var controller = new SpeculationController(draftMax, 0.12);
                for (int k = 1; k <= draftMax; k++) controller.ObserveCost(k, cost[k + 1]);
                var history = new List<int>(prompt) { output[0] };   // the first token comes from the prompt's logits
                var draft = new int[draftMax];
                for (int pos = 1; pos < output.Length;)
                {
                    int k = Math.Min(oracle ? draftMax : controller.NextLength(), output.Length - pos - 1);
                    int n = k > 0 ? PromptLookupDrafter.Draft(history.ToArray(), draft.AsSpan(0, k)) : 0;
                    int a = 0;
                    while (a < n && draft[a] == output[pos + a]) a++;
                    if (oracle) n = a;
                    else if (n > 0) controller.Record(n, a);
                    spent += cost[n + 1];
                    drafted += n;
                    accepted += a;
                    for (int i = 0; i <= a; i++, produced++) history.Add(output[pos++]);
                }
            }
            return string.Create(CultureInfo.InvariantCulture, $"{produced / spent:F2}x ({accepted}/{drafted})");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"lookup on {name} at these verify costs ({string.Join(' ', cost.Skip(1).Select(c => c.ToString("F2", CultureInfo.InvariantCulture)))}): controller replayed {Replay(false)}, oracle draft lengths (upper bound) {Replay(true)}"));
    }

    /// <summary>[rows] the time of a step of that many rows after a 64-token prefix relative to one row (index 0 unused); least of many.</summary>
    private static double[] StepCosts(ILanguageModel model, int maxRows)
    {
        int vocab = model.Config.VocabSize;
        var logits = new float[maxRows * vocab];
        var cache = model.CreateCache(128);
        model.Forward(Enumerable.Range(0, 64).Select(i => 10 + i % 50).ToArray(), cache, logits.AsSpan(0, vocab));
        var best = new double[maxRows + 1];
        Array.Fill(best, double.MaxValue);
        for (int round = 0; round < 200; round++)
            for (int n = 1; n <= maxRows; n++)
            {
                cache.Truncate(64);
                var tokens = Enumerable.Range(20, n).ToArray();
                long t0 = Stopwatch.GetTimestamp();
                model.Forward(tokens, cache, logits.AsSpan(0, n * vocab), allLogits: true);
                best[n] = Math.Min(best[n], Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
        return best.Select((b, n) => n == 0 ? 0 : b / best[1]).ToArray();
    }
}
