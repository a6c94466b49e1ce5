using System.Diagnostics;
using System.Globalization;
using System.Text;
using Frugal.Evaluation;
using Frugal.Gguf;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Inference.Voting;
using Frugal.Models;
using Frugal.Tokenization;

namespace Frugal.Bench;

/// <summary>
/// Accuracy against generated tokens on a task family (default chain, the family where the built-in model's
/// greedy accuracy is 20-80%): greedy, majority vote over k = 1..16 samples, best-of-k by mean log-probability,
/// OSCA-style allocation and allocation with an early stop, each allocated point at one mean budget with its recipe
/// fitted on the development split. Every prompt's 16 samples are drawn once on the engine (a sample group per
/// prompt: the prompt computed once, its KV forked) with seeds fixed by the sample index; every policy is then
/// replayed over those samples in index order, which is exactly what it draws live (checked for one budget).
/// Writes a markdown report and a PNG of the curves (ScottPlot).
/// Usage: Frugal.Bench voting-curves [--model FILE] [--task chain] [--items 400] [--dev-items 1200] [--temp 1.0 | --temps 0.3,0.5,0.7,1.0] [--min-p 0]
/// [--seed 1] [--out DIR]; --temps first sweeps the temperatures on the development split (VotingSweep) and runs the curves at the chosen one
/// </summary>
internal static class VotingCurves
{
    private const int PoolSize = 16;
    private static readonly double[] Budgets = [2, 2.5, 3, 4, 5, 5.5, 6, 6.5, 7, 8, 10, 12];

    private sealed record Point(string Curve, string Label, double TokensPerItem, AccuracyEstimate Estimate);

    public static int Run(string[] args)
    {
        string model = "models/frugal-main.gguf", taskName = "chain", outDir = "bench/voting";
        string? poolsDir = null;
        bool sweepOnly = false;
        int items = 400, devItems = 1200;
        float temp = 1.0f, minP = 0;
        float[]? temps = null;
        ulong seed = 1, itemSeed = HeldOutSets.DefaultSeed;
        double stopSlack = 0.01;
        for (int i = 0; i < args.Length; i += 2)
        {
            if (args[i] == "--sweep-only") { sweepOnly = true; i--; continue; }
            if (i + 1 >= args.Length) return Usage($"{args[i]} needs a value");
            string v = args[i + 1];
            switch (args[i])
            {
                case "--model": model = v; break;
                case "--task": taskName = v; break;
                case "--items": items = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--dev-items": devItems = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--temp": temp = float.Parse(v, CultureInfo.InvariantCulture); break;
                case "--min-p": minP = float.Parse(v, CultureInfo.InvariantCulture); break;
                case "--temps": temps = v.Split(',').Select(t => float.Parse(t, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--seed": seed = ulong.Parse(v, CultureInfo.InvariantCulture); break;
                case "--out": outDir = v; break;
                case "--pools-dir": poolsDir = v; break;
                case "--item-seed": itemSeed = ulong.Parse(v, CultureInfo.InvariantCulture); break;
                case "--stop-slack": stopSlack = double.Parse(v, CultureInfo.InvariantCulture); break;
                default: return Usage($"unknown option {args[i]}");
            }
        }
        if (!TaskNames.TryParse(taskName, out var task)) return Usage($"unknown task {taskName}");
        if (!File.Exists(model)) return Usage($"no model at {model} (run from the repository root or pass --model)");

        using var file = GgufFile.Open(model);
        using var lm = ModelLoader.Load(model);
        const int Running = 32;
        using var engine = new InferenceEngine(lm, Tokenizer.FromGguf(file), new EngineOptions { MaxRunningSequences = Running, MaxQueuedRequests = 1024 });
        // Pools: as many prompts at once as the running slots hold whole groups, so every group's samples fork its prompt.
        const int PoolPrompts = Running / PoolSize;
        var clock = Stopwatch.StartNew();
        var dev = new VotingExperiment(engine, task, SamplingOptions.Greedy, seed).Items(TaskSplit.Development, devItems);
        IReadOnlyList<IReadOnlyList<SampleAnswer>>? devPools = null;
        string? tempChoice = null;
        if (temps is not null)
        {
            // The temperature is chosen on the development split only; the held-out items are not drawn until after.
            (temp, devPools) = VotingSweep.Run(engine, task, taskName, dev, temps, seed, PoolSize, PoolPrompts, Running, outDir, model, poolsDir, minP);
            if (sweepOnly) return 0;
            tempChoice = $"chosen on the development split by the sweep over {string.Join(", ", temps.Select(t => t.ToString(CultureInfo.InvariantCulture)))} ([{taskName}-temps.md]({taskName}-temps.md))";
        }
        var sampling = new SamplingOptions { Temperature = temp, TopK = 0, TopP = 1, MinP = minP };
        var experiment = new VotingExperiment(engine, task, sampling, seed);
        devPools ??= VotingPoolCache.Get(poolsDir, model, taskName, TaskSplit.Development, dev.Count, temp, minP, seed,
            () => experiment.PoolsAsync(dev, PoolSize, PoolPrompts).GetAwaiter().GetResult());
        // Another held-out draw (--item-seed): items no earlier run has looked at, for checking a recipe change afresh.
        var test = experiment.Items(TaskSplit.HeldOut, items, itemSeed);
        string heldOutKey = itemSeed == HeldOutSets.DefaultSeed ? taskName : $"{taskName}-i{itemSeed}";
        Console.Error.WriteLine($"dev pools: {dev.Count} x {PoolSize} samples in {clock.Elapsed.TotalSeconds:F0} s");
        var testSource = experiment.Source(test);
        var testPools = VotingPoolCache.Get(poolsDir, model, heldOutKey, TaskSplit.HeldOut, test.Count, temp, minP, seed,
            () => RepeatedSampling.RunAsync(test.Count, new UniformPolicy(PoolSize), testSource.Source, PoolPrompts).GetAwaiter().GetResult()
                .Select(s => s.Samples).ToList());
        long poolPromptTokens = testSource.ComputedPromptTokens;
        Console.Error.WriteLine($"held-out pools: {test.Count} x {PoolSize} samples in {clock.Elapsed.TotalSeconds:F0} s");
        var greedySource = experiment.Source(test, SamplingOptions.Greedy);
        var greedy = RepeatedSampling.RunAsync(test.Count, new UniformPolicy(1), greedySource.Source, Running).GetAwaiter().GetResult();

        var points = new List<Point>
        {
            new("greedy", "greedy", greedy.Average(s => s.Tokens), Estimate(test, greedy.Select(s => s.Vote.Answer))),
        };
        for (int k = 1; k <= PoolSize; k++)
        {
            var (acc, tokens, correct) = Replay(test, testPools, new UniformPolicy(k));
            points.Add(new("vote@k", $"k={k}", (double)tokens / test.Count, new AccuracyEstimate(correct, test.Count)));
            var best = testPools.Select(p => AnswerVote.BestOfN(p.Take(k).ToList()));
            points.Add(new("best-of-k (mean logprob)", $"k={k}", (double)tokens / test.Count, Estimate(test, best)));
        }
        var recipes = new List<VotingRecipe>();
        // A recipe's two points on the held-out pools: allocated, and allocated + early stop.
        void Score(List<Point> into, VotingRecipe recipe, string suffix)
        {
            string label = $"B={recipe.Budget}";
            var (_, t1, c1) = Replay(test, testPools, new AllocatedPolicy(recipe.Mapping));
            into.Add(new("allocated" + suffix, label, (double)t1 / test.Count, new AccuracyEstimate(c1, test.Count)));
            var (_, t2, c2) = Replay(test, testPools, new AllocatedEarlyStopPolicy(recipe.StopMapping, recipe.Stop));
            into.Add(new("allocated + early stop" + suffix, label, (double)t2 / test.Count, new AccuracyEstimate(c2, test.Count)));
        }
        foreach (double b in Budgets)
        {
            var recipe = VotingExperiment.FitRecipe(dev, devPools, b, stopSlack);
            recipes.Add(recipe);
            Score(points, recipe, "");
        }

        // Not a result: the same recipe search fitted on the held-out pools themselves, at the budgets around vote@8's
        // accuracy: what the search finds with the answers in hand, which a development fit is not expected to beat.
        var ceiling = new List<Point>();
        foreach (double b in Budgets.Where(b => b is >= 4 and <= 8))
            Score(ceiling, VotingExperiment.FitRecipe(test, testPools, b, stopSlack), ", fitted in-sample");

        // Live check: one budget's early-stop policy on the engine gives exactly the replayed samples' result.
        var check = recipes.First(r => r.Budget == 4);
        var live = RepeatedSampling.RunAsync(test.Count, new AllocatedEarlyStopPolicy(check.StopMapping, check.Stop), experiment.Source(test).Source, Running)
            .GetAwaiter().GetResult();
        var replayed = RepeatedSampling.RunAsync(test.Count, new AllocatedEarlyStopPolicy(check.StopMapping, check.Stop), RepeatedSampling.Replay(testPools), 1)
            .GetAwaiter().GetResult();
        bool liveMatches = live.Zip(replayed).All(p => p.First.Vote.Answer == p.Second.Vote.Answer && p.First.Tokens == p.Second.Tokens);

        Directory.CreateDirectory(outDir);
        string png = Path.Combine(outDir, $"{taskName}-curves.png");
        Plot(points, png, taskName, test.Count, temp);
        // Paired against greedy, item by item: does voting turn answers greedy misses, or only trade them?
        var greedyRight = test.Select((item, i) => TaskAnswers.IsCorrect(item, greedy[i].Vote.Answer)).ToArray();
        string paired = string.Join("; ", new[] { 1, 8, 16 }.Select(k =>
        {
            var right = test.Select((item, i) => TaskAnswers.IsCorrect(item, AnswerVote.Majority(testPools[i].Take(k).ToList()).Answer)).ToArray();
            return $"vote@{k} right where greedy is wrong on {right.Zip(greedyRight).Count(p => p.First && !p.Second)} items, wrong where greedy is right on {right.Zip(greedyRight).Count(p => !p.First && p.Second)}";
        }));
        string setup = (itemSeed == HeldOutSets.DefaultSeed ? "" : $", held-out item seed {itemSeed}") + (stopSlack == 0.01 ? "" : $", early stop fitted to lose at most {100 * stopSlack:0.##} points of allocation's development accuracy");
        string report = Report(points, ceiling, recipes, taskName + setup, test.Count, dev.Count, temp, minP, tempChoice, paired, seed, liveMatches, poolPromptTokens, PoolSize * test.Sum(i => (long)engine.Tokenizer.Encode(i.Prompt, addSpecial: true, parseSpecial: false).Length), clock.Elapsed, Path.GetFileName(png));
        File.WriteAllText(Path.Combine(outDir, $"{taskName}-curves.md"), report);
        Console.WriteLine(report);
        return 0;
    }

    private static (double Accuracy, long Tokens, int Correct) Replay(IReadOnlyList<EvalItem> items, IReadOnlyList<IReadOnlyList<SampleAnswer>> pools, SamplingPolicy policy)
    {
        var solved = RepeatedSampling.RunAsync(items.Count, policy, RepeatedSampling.Replay(pools), 1).GetAwaiter().GetResult();
        int correct = solved.Count(s => TaskAnswers.IsCorrect(items[s.Prompt], s.Vote.Answer));
        return ((double)correct / items.Count, solved.Sum(s => (long)s.Tokens), correct);
    }

    private static AccuracyEstimate Estimate(IReadOnlyList<EvalItem> items, IEnumerable<string?> answers) =>
        new(answers.Select((a, i) => TaskAnswers.IsCorrect(items[i], a)).Count(ok => ok), items.Count);

    private static void Plot(List<Point> points, string path, string task, int n, float temp)
    {
        var plt = new ScottPlot.Plot();
        foreach (var curve in points.GroupBy(p => p.Curve))
        {
            var ordered = curve.OrderBy(p => p.TokensPerItem).ToList();
            double[] xs = ordered.Select(p => p.TokensPerItem).ToArray();
            double[] ys = ordered.Select(p => 100 * p.Estimate.Accuracy).ToArray();
            var line = plt.Add.Scatter(xs, ys);
            line.LegendText = curve.Key;
            line.MarkerSize = curve.Key == "greedy" ? 10 : 5;
            var bars = plt.Add.ErrorBar(xs, ys, ordered.Select(p => 100 * (p.Estimate.Interval.High - p.Estimate.Accuracy)).ToArray());
            bars.YErrorNegative = ordered.Select(p => 100 * (p.Estimate.Accuracy - p.Estimate.Interval.Low)).ToArray();
            bars.Color = line.Color;
        }
        plt.Axes.Bottom.Label.Text = "tokens generated per item";
        plt.Axes.Left.Label.Text = "accuracy, % (95% Wilson interval)";
        plt.Title($"{task}, held-out n = {n}, built-in model, temperature {temp.ToString(CultureInfo.InvariantCulture)}");
        plt.ShowLegend(ScottPlot.Alignment.LowerRight);
        plt.SavePng(path, 1000, 650);
    }

    /// <summary>The sampling filters of the pools, as the reports state them.</summary>
    internal static string Filters(float minP) =>
        minP > 0 ? $"top-k/top-p off, min-p {minP.ToString(CultureInfo.InvariantCulture)}" : "top-k/top-p/min-p off";

    private static string Report(List<Point> points, List<Point> ceiling, List<VotingRecipe> recipes, string task, int n, int devN, float temp, float minP, string? tempChoice, string paired, ulong seed, bool liveMatches,
        long poolPromptTokens, long promptTokens, TimeSpan elapsed, string png)
    {
        var sb = new StringBuilder();
        string F(double x) => x.ToString("F1", CultureInfo.InvariantCulture);
        string Acc(AccuracyEstimate e) => $"{F(100 * e.Accuracy)}% [{F(100 * e.Interval.Low)}, {F(100 * e.Interval.High)}]";
        sb.AppendLine($"task {task}: held-out n = {n}, development n = {devN}, temperature {temp.ToString(CultureInfo.InvariantCulture)} ({Filters(minP)}{(tempChoice is null ? "" : "; " + tempChoice)}), sample seed {seed}, {F(elapsed.TotalSeconds)} s");
        if (poolPromptTokens == 0)
            sb.AppendLine($"held-out pools: {n} x {PoolSize} samples, replayed from a pool store (--pools-dir) drawn by an earlier run of the same model, task, temperature and seed");
        else
            sb.AppendLine($"held-out pools: {n} x {PoolSize} samples, {poolPromptTokens} prompt tokens computed of {promptTokens} in the {n * PoolSize} samples' prompts (the rest forked from each group's first sample or taken from the prefix cache)");
        sb.AppendLine($"live allocated + early stop (B=4) on the engine == its replay over the stored samples: {(liveMatches ? "yes" : "NO")}");
        sb.AppendLine();
        sb.AppendLine($"![accuracy vs tokens]({png})");
        sb.AppendLine();
        sb.AppendLine("| curve | point | tokens/item | accuracy [95% CI] |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var p in points)
            sb.AppendLine($"| {p.Curve} | {p.Label} | {F(p.TokensPerItem)} | {Acc(p.Estimate)} |");
        sb.AppendLine();
        sb.AppendLine("Recipes (fitted on the development split at each mean budget B):");
        sb.AppendLine();
        foreach (var r in recipes)
            sb.AppendLine($"- B={r.Budget.ToString(CultureInfo.InvariantCulture)}: {r.Mapping}; early stop: {r.StopMapping}, stop when {r.Stop} (dev accuracy allocated {F(100 * r.DevAllocatedAccuracy)}%, with early stop {F(100 * r.DevEarlyStopAccuracy)}%)");
        sb.AppendLine();

        var vote8 = points.First(p => p.Curve == "vote@k" && p.Label == "k=8");
        sb.AppendLine(Goals(points, "allocated", "allocated + early stop", vote8, "", Acc));
        sb.AppendLine();
        sb.AppendLine("In-sample (not a result: the same recipe search fitted on the held-out pools it is scored on, budgets 4-8: what the search finds with the answers in hand, which a development fit is not expected to beat):");
        sb.AppendLine();
        sb.AppendLine("| curve | point | tokens/item | accuracy [95% CI] |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var p in ceiling)
            sb.AppendLine($"| {p.Curve} | {p.Label} | {F(p.TokensPerItem)} | {Acc(p.Estimate)} |");
        sb.AppendLine();
        sb.AppendLine(Goals(ceiling, "allocated, fitted in-sample", "allocated + early stop, fitted in-sample", vote8, "In-sample, ", Acc));
        sb.AppendLine();
        sb.AppendLine($"Against greedy, item by item (held-out): {paired}. The goals compare against vote@8, so where vote@8 is no better than greedy they say little about voting itself.");
        return sb.ToString();
    }

    /// <summary>
    /// Goal 1: the cheapest allocated point at vote@8's accuracy has >= 30% fewer tokens; goal 2: the cheapest early-stop
    /// point at that accuracy has >= 30% fewer tokens than that allocated point.
    /// </summary>
    private static string Goals(List<Point> points, string allocatedCurve, string stopCurve, Point vote8, string prefix, Func<AccuracyEstimate, string> acc)
    {
        string F(double x) => x.ToString("F1", CultureInfo.InvariantCulture);
        var allocatedHit = points.Where(p => p.Curve == allocatedCurve && p.Estimate.Correct >= vote8.Estimate.Correct).OrderBy(p => p.TokensPerItem).FirstOrDefault();
        var stopHit = points.Where(p => p.Curve == stopCurve && p.Estimate.Correct >= vote8.Estimate.Correct).OrderBy(p => p.TokensPerItem).FirstOrDefault();
        string first = $"{prefix}Goal 1 (allocation reaches vote@8's {acc(vote8.Estimate)} at {F(vote8.TokensPerItem)} tokens/item with >= 30% fewer tokens): " +
            (allocatedHit is null ? "not reached: no allocated point matched vote@8's accuracy"
                : $"allocated {allocatedHit.Label} reaches {acc(allocatedHit.Estimate)} at {F(allocatedHit.TokensPerItem)} tokens/item: {F(100 * (1 - allocatedHit.TokensPerItem / vote8.TokensPerItem))}% fewer ({(allocatedHit.TokensPerItem <= 0.7 * vote8.TokensPerItem ? "met" : "not met")})");
        string second = allocatedHit is null || stopHit is null
            ? "not measurable: " + (stopHit is null ? "no early-stop point matched vote@8's accuracy" : "allocation did not match vote@8")
            : $"early stop {stopHit.Label} reaches {acc(stopHit.Estimate)} at {F(stopHit.TokensPerItem)} tokens/item: {F(100 * (1 - stopHit.TokensPerItem / allocatedHit.TokensPerItem))}% fewer than allocation ({(stopHit.TokensPerItem <= 0.7 * allocatedHit.TokensPerItem ? "met" : "not met")}), {F(100 * (1 - stopHit.TokensPerItem / vote8.TokensPerItem))}% fewer than vote@8";
        return first + "\n" + $"{prefix}Goal 2 (early stop saves >= 30% more): {second}";
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"error: {problem}");
        Console.Error.WriteLine("usage: Frugal.Bench voting-curves [--model FILE] [--task chain] [--items 400] [--dev-items 1200] [--temp 1.0 | --temps 0.3,0.5,0.7,1.0] [--min-p 0] [--seed 1] [--item-seed N] [--stop-slack 0.01] [--out DIR] [--pools-dir DIR] [--sweep-only]");
        return 2;
    }
}
