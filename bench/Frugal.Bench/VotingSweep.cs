using System.Globalization;
using System.Text;
using Frugal.Evaluation;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Inference.Voting;

namespace Frugal.Bench;

/// <summary>
/// The temperature sweep of voting-curves (--temps): on the development split only, greedy once and, per temperature,
/// 16 samples per item (top-k/top-p off, min-p off unless --min-p), reporting greedy, vote@1, vote@8, vote@16 and best-of-16 accuracy;
/// <see cref="TemperatureChoice.Pick"/> chooses the temperature. Writes {task}-temps.md. The chosen temperature's pools
/// are handed back so the curves fit their recipes on the very samples the choice was made on.
/// </summary>
internal static class VotingSweep
{
    public static (float Temperature, IReadOnlyList<IReadOnlyList<SampleAnswer>> DevPools) Run(InferenceEngine engine, EvalTask task, string taskName,
        IReadOnlyList<EvalItem> dev, IReadOnlyList<float> temps, ulong seed, int poolSize, int poolPrompts, int running, string outDir,
        string model, string? poolsDir, float minP)
    {
        var greedyExperiment = new VotingExperiment(engine, task, SamplingOptions.Greedy, seed);
        var greedy = RepeatedSampling.RunAsync(dev.Count, new UniformPolicy(1), greedyExperiment.Source(dev).Source, running).GetAwaiter().GetResult();
        int greedyCorrect = greedy.Count(s => TaskAnswers.IsCorrect(dev[s.Prompt], s.Vote.Answer));
        Console.Error.WriteLine($"sweep: dev greedy {greedyCorrect}/{dev.Count}");
        var trials = new List<TemperatureTrial>();
        var bestOf16 = new List<int>();
        var pools = new Dictionary<float, IReadOnlyList<IReadOnlyList<SampleAnswer>>>();
        foreach (float t in temps)
        {
            var experiment = new VotingExperiment(engine, task, new SamplingOptions { Temperature = t, TopK = 0, TopP = 1, MinP = minP }, seed);
            var p = VotingPoolCache.Get(poolsDir, model, taskName, TaskSplit.Development, dev.Count, t, minP, seed,
                () => experiment.PoolsAsync(dev, poolSize, poolPrompts).GetAwaiter().GetResult());
            pools[t] = p;
            int Vote(int k) => dev.Select((item, i) => TaskAnswers.IsCorrect(item, AnswerVote.Majority(p[i].Take(k).ToList()).Answer)).Count(ok => ok);
            trials.Add(new TemperatureTrial(t, dev.Count, greedyCorrect, Vote(1), Vote(8), Vote(16)));
            bestOf16.Add(dev.Select((item, i) => TaskAnswers.IsCorrect(item, AnswerVote.BestOfN(p[i].Take(16).ToList()))).Count(ok => ok));
            Console.Error.WriteLine($"sweep: temperature {t}: vote@1 {trials[^1].Vote1}, vote@8 {trials[^1].Vote8}, vote@16 {trials[^1].Vote16} of {dev.Count}");
        }
        var (chosen, reason) = TemperatureChoice.Pick(trials);

        string F(int c) => $"{(100.0 * c / dev.Count).ToString("F1", CultureInfo.InvariantCulture)}%";
        var sb = new StringBuilder();
        sb.AppendLine($"task {taskName}: temperature sweep on the development split only (n = {dev.Count}, {poolSize} samples per item, {VotingCurves.Filters(minP)}, sample seed {seed})");
        sb.AppendLine();
        sb.AppendLine("| temperature | greedy | vote@1 | vote@8 | vote@16 | best-of-16 (mean logprob) | vote@16 - greedy |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        for (int i = 0; i < trials.Count; i++)
        {
            var t = trials[i];
            sb.AppendLine($"| {t.Temperature.ToString(CultureInfo.InvariantCulture)} | {F(t.Greedy)} | {F(t.Vote1)} | {F(t.Vote8)} | {F(t.Vote16)} | {F(bestOf16[i])} | {t.Vote16Gain:+#;-#;0} items |");
        }
        sb.AppendLine();
        sb.AppendLine($"Chosen temperature {chosen.Temperature.ToString(CultureInfo.InvariantCulture)}: {reason}.");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, $"{taskName}-temps.md"), sb.ToString());
        Console.WriteLine(sb.ToString());
        return (chosen.Temperature, pools[chosen.Temperature]);
    }
}
