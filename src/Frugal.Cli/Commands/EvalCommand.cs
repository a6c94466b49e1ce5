using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Frugal.Evaluation;
using Frugal.Numerics.Attention;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal eval [MODEL] --task arithmetic|recall|copy|copy-long|chain [--n 500] [--seed S] [-t N] [-ctk T] [-ctv T] [--json]</c>: greedy accuracy on
/// a held-out task set with its 95% Wilson interval (see <see cref="GreedyTaskEvaluator"/>). Without MODEL it
/// measures the built-in model, as <c>frugal run</c> does.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string?>("MODEL") { Description = HubModels.ModelHelp + " (default: the built-in model)", Arity = ArgumentArity.ZeroOrOne };
        var task = new Option<string>("--task") { Description = "held-out task: arithmetic (3-digit addition), recall (key 400+ tokens back), copy (3-10 items), copy-long (11-14 items) or chain (sums of 5-7 two-digit numbers worked step by step, the family for voting)", Required = true };
        var count = new Option<int>("--n") { Description = "items to evaluate", DefaultValueFactory = _ => 500 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the held-out set", DefaultValueFactory = _ => HeldOutSets.DefaultSeed };
        var threads = ThreadsOption.Create();
        var json = CommonArguments.Json();
        var kv = new KvCacheTypeOptions();
        var command = new Command("eval", "greedy accuracy on a held-out task with a 95% confidence interval") { model, task, count, seed, threads, json };
        kv.AddTo(command);
        var retention = new KvRetentionCliOptions(shift: false);
        retention.AddTo(command);
        var memory = new MemoryBudgetOptions();
        memory.AddTo(command);
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            string taskName = parse.GetValue(task)!;
            if (!TaskNames.TryParse(taskName, out var evalTask))
                throw new CliError($"--task: unknown task '{taskName}' (expected {string.Join(", ", TaskNames.Names)})");
            int n = parse.GetValue(count);
            if (n < 1) throw new CliError($"--n: expected at least 1 item, got {n}");
            var cacheTypes = kv.Parse(parse);
            var kvRetention = retention.Parse(parse);
            var loadOptions = memory.Parse(parse);
            string path = parse.GetValue(model) ?? context.DefaultModelPath;
            if (parse.GetValue(model) is null && !File.Exists(path))
                throw new CliError($"no MODEL given and the built-in model is missing at '{path}': give the path of a GGUF file");
            path = HubModels.Resolve(context, path);
            ThreadsOption.Apply(parse.GetValue(threads));

            using var file = CommonArguments.Open(path);
            using var lm = MemoryBudgetOptions.Load(context, file, loadOptions);
            KvCacheTypeOptions.CheckFits(cacheTypes, lm.Config);
            KvRetentionCliOptions.CheckFits(kvRetention, lm.Config.ContextLength);
            var evaluator = new GreedyTaskEvaluator(lm, context.LoadTokenizer(file), cacheTypes, kvRetention);
            long started = Stopwatch.GetTimestamp();
            var items = evaluator.HeldOutItems(evalTask, n, parse.GetValue(seed));
            var estimate = evaluator.Measure(items, null, context.Cancellation);
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var (low, high) = estimate.Interval;
            string name = TaskNames.Name(evalTask);
            if (parse.GetValue(json))
            {
                JsonText.WriteLine(context.Out, j =>
                {
                    j.WriteString("task", name);
                    j.WriteNumber("n", estimate.Total);
                    j.WriteNumber("correct", estimate.Correct);
                    j.WriteNumber("accuracy", estimate.Accuracy);
                    j.WriteNumber("ci_low", low);
                    j.WriteNumber("ci_high", high);
                    j.WriteString("kv_type_k", KvElementTypes.Name(cacheTypes.Keys));
                    j.WriteString("kv_type_v", KvElementTypes.Name(cacheTypes.Values));
                    j.WriteBoolean("kv_rotate_k", cacheTypes.RotateKeys);
                });
            }
            else
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: accuracy {100 * estimate.Accuracy:F1}% ({estimate.Correct}/{estimate.Total}), 95% CI [{100 * low:F1}%, {100 * high:F1}%]"));
            }
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"greedy decoding of {estimate.Total} held-out items in {seconds:F2} s ({cacheTypes})"));
            return 0;
        }));
        return command;
    }
}
