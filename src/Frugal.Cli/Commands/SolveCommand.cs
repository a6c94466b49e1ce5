using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Frugal.Evaluation;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Inference.Voting;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal solve [MODEL] --task NAME --budget N [--n-items M] [--policy uniform|allocated|allocated-early-stop]
/// [--split held-out|dev] [--temp T] [--dev-items D] [--seed S] [--parallel P] [--json]</c>: repeated sampling with
/// majority vote on a task family. <c>--budget</c> is the mean number of samples per item (the total is budget x
/// items): uniform gives every item exactly that many; allocated first fits its mapping (probes, extra samples per
/// agreement level) and early-stop rule on the development split (D items, pools of 16 samples), then spends the same
/// mean budget where the probes disagree. Prints accuracy with its Wilson interval, the tokens generated, and the
/// recipe it learnt.
/// </summary>
internal static class SolveCommand
{
    private const int DevPoolSize = 16;

    public static Command Create(CliContext context)
    {
        var model = new Argument<string?>("MODEL") { Description = HubModels.ModelHelp + " (default: the built-in model)", Arity = ArgumentArity.ZeroOrOne };
        var task = new Option<string>("--task") { Description = $"task family: {string.Join(", ", TaskNames.Names)}", Required = true };
        var budget = new Option<double>("--budget") { Description = "mean samples per item (the total is budget x items)", Required = true };
        var count = new Option<int>("--n-items") { Description = "items to solve", DefaultValueFactory = _ => 200 };
        var policy = new Option<string>("--policy") { Description = "uniform, allocated or allocated-early-stop", DefaultValueFactory = _ => "uniform" };
        var split = new Option<string>("--split") { Description = "held-out (results) or dev (the split recipes are chosen on)", DefaultValueFactory = _ => "held-out" };
        var temp = new Option<float>("--temp") { Description = "sampling temperature (0: greedy, one sample is enough); top-k, top-p and min-p are off; 0.7 is what voting-curves chose on chain's development split for the built-in model", DefaultValueFactory = _ => 0.7f };
        var devItems = new Option<int>("--dev-items") { Description = "development items the allocated policies learn their recipe on", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the samples", DefaultValueFactory = _ => 1 };
        var parallel = new Option<int>("--parallel") { Description = "sequences the engine runs at once", DefaultValueFactory = _ => 32 };
        var threads = ThreadsOption.Create();
        var json = CommonArguments.Json();
        var command = new Command("solve", "repeated sampling with majority vote on a task family, at a fixed mean budget of samples per item")
            { model, task, budget, count, policy, split, temp, devItems, seed, parallel, threads, json };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            string taskName = parse.GetValue(task)!;
            if (!TaskNames.TryParse(taskName, out var evalTask))
                throw new CliError($"--task: unknown task '{taskName}' (expected {string.Join(", ", TaskNames.Names)})");
            double b = parse.GetValue(budget);
            if (!(b >= 1) || b > DevPoolSize) throw new CliError($"--budget: expected a mean of 1 to {DevPoolSize} samples per item, got {b}");
            int n = parse.GetValue(count);
            if (n < 1) throw new CliError($"--n-items: expected at least 1 item, got {n}");
            string policyName = parse.GetValue(policy)!;
            if (policyName is not ("uniform" or "allocated" or "allocated-early-stop"))
                throw new CliError($"--policy: unknown policy '{policyName}' (expected uniform, allocated or allocated-early-stop)");
            if (policyName == "uniform" && b != Math.Floor(b)) throw new CliError($"--budget: uniform sampling needs a whole number of samples, got {b}");
            if (policyName != "uniform" && b < 2) throw new CliError($"--budget: the allocated policies need at least 2 samples per item (the probes), got {b}");
            var splitValue = parse.GetValue(split) switch
            {
                "held-out" => TaskSplit.HeldOut,
                "dev" => TaskSplit.Development,
                var s => throw new CliError($"--split: unknown split '{s}' (expected held-out or dev)"),
            };
            float t = parse.GetValue(temp);
            if (t is < 0 or > 2 || float.IsNaN(t)) throw new CliError($"--temp: expected 0 to 2, got {t}");
            int d = parse.GetValue(devItems);
            if (d < 1) throw new CliError($"--dev-items: expected at least 1 item, got {d}");
            int p = parse.GetValue(parallel);
            if (p < 1) throw new CliError($"--parallel: expected at least 1, got {p}");
            string path = parse.GetValue(model) ?? context.DefaultModelPath;
            if (parse.GetValue(model) is null && !File.Exists(path))
                throw new CliError($"no MODEL given and the built-in model is missing at '{path}': give the path of a GGUF file");
            path = HubModels.Resolve(context, path);
            ThreadsOption.Apply(parse.GetValue(threads));

            using var file = CommonArguments.Open(path);
            using var lm = context.LoadModel(file, Frugal.Models.ModelLoadOptions.Default);
            using var engine = new InferenceEngine(lm, context.LoadTokenizer(file), new EngineOptions { MaxRunningSequences = p, MaxQueuedRequests = Math.Max(256, 4 * p) });
            // Pure temperature sampling (Large Language Monkeys' setting): llama.cpp's default min-p/top-p/top-k would cut a
            // confident small model's alternatives before temperature could spread them, and every sample would be greedy.
            var sampling = new SamplingOptions { Temperature = t, TopK = 0, TopP = 1, MinP = 0 };
            var experiment = new VotingExperiment(engine, evalTask, sampling, parse.GetValue(seed));
            long started = Stopwatch.GetTimestamp();

            VotingRecipe? recipe = null;
            SamplingPolicy chosen = new UniformPolicy((int)b);
            if (policyName != "uniform")
            {
                var dev = experiment.Items(TaskSplit.Development, d);
                var pools = experiment.PoolsAsync(dev, DevPoolSize, cancellationToken: context.Cancellation).GetAwaiter().GetResult();
                recipe = VotingExperiment.FitRecipe(dev, pools, b);
                chosen = policyName == "allocated" ? new AllocatedPolicy(recipe.Mapping) : new AllocatedEarlyStopPolicy(recipe.StopMapping, recipe.Stop);
            }
            var items = experiment.Items(splitValue, n);
            var source = experiment.Source(items);
            var solved = RepeatedSampling.RunAsync(items.Count, chosen, source.Source, p, context.Cancellation).GetAwaiter().GetResult();
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var estimate = new AccuracyEstimate(solved.Count(s => TaskAnswers.IsCorrect(items[s.Prompt], s.Vote.Answer)), items.Count);
            var (low, high) = estimate.Interval;
            long tokens = solved.Sum(s => (long)s.Tokens);
            int samples = solved.Sum(s => s.Samples.Count);
            string name = TaskNames.Name(evalTask);
            string splitName = splitValue == TaskSplit.HeldOut ? "held-out" : "dev";
            if (parse.GetValue(json))
            {
                JsonText.WriteLine(context.Out, j =>
                {
                    j.WriteString("task", name);
                    j.WriteString("split", splitName);
                    j.WriteString("policy", policyName);
                    j.WriteNumber("budget", b);
                    j.WriteNumber("temperature", t);
                    j.WriteNumber("n", estimate.Total);
                    j.WriteNumber("correct", estimate.Correct);
                    j.WriteNumber("accuracy", estimate.Accuracy);
                    j.WriteNumber("ci_low", low);
                    j.WriteNumber("ci_high", high);
                    j.WriteNumber("samples", samples);
                    j.WriteNumber("tokens_generated", tokens);
                    j.WriteNumber("prompt_tokens_computed", source.ComputedPromptTokens);
                    if (recipe is not null)
                    {
                        var used = policyName == "allocated" ? recipe.Mapping : recipe.StopMapping;
                        j.WriteNumber("probe", used.Probe);
                        j.WriteStartArray("extra_by_agreement");
                        foreach (int e in used.ExtraByAgreement) j.WriteNumberValue(e);
                        j.WriteEndArray();
                        if (recipe.Stop.MinVotes != int.MaxValue) j.WriteNumber("stop_min_votes", recipe.Stop.MinVotes);
                        else j.WriteNull("stop_min_votes"); // no count-and-share stop
                        j.WriteNumber("stop_min_share", recipe.Stop.MinShare);
                        if (recipe.Stop.MinLead != int.MaxValue) j.WriteNumber("stop_min_lead", recipe.Stop.MinLead);
                        else j.WriteNull("stop_min_lead"); // the margin stop is off
                        if (double.IsFinite(recipe.Stop.MinLogprob)) j.WriteNumber("stop_min_logprob", recipe.Stop.MinLogprob);
                        else j.WriteNull("stop_min_logprob"); // the confidence stop is off
                        if (double.IsFinite(recipe.Stop.MinWeakestLogprob)) j.WriteNumber("stop_min_weakest_logprob", recipe.Stop.MinWeakestLogprob);
                        else j.WriteNull("stop_min_weakest_logprob");
                    }
                });
            }
            else
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name} ({splitName}), {policyName} at {b} samples/item: accuracy {100 * estimate.Accuracy:F1}% ({estimate.Correct}/{estimate.Total}), 95% CI [{100 * low:F1}%, {100 * high:F1}%]; {samples} samples, {tokens} tokens generated ({(double)tokens / items.Count:F1}/item)"));
                if (recipe is not null)
                    context.Out.WriteLine($"recipe (fitted on {d} dev items): allocated {recipe.Mapping}; early stop {recipe.StopMapping}, stop when {recipe.Stop}");
            }
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seconds:F2} s; {source.ComputedPromptTokens} prompt tokens computed for {samples} samples (the rest forked or from the prefix cache)"));
            return 0;
        }));
        return command;
    }
}
