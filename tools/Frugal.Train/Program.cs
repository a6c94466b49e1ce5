using System.Diagnostics;
using System.Globalization;
using Frugal.Evaluation;
using Frugal.Train.Bpe;
using Frugal.Train.Distillation;
using Frugal.Train.Eval;
using Frugal.Train.Export;
using Frugal.Train.Model;
using Frugal.Train.Training;

// Frugal.Train: builds the shipped models from nothing (see models/README.md).
//   tokenizer --out models/tokenizer.json [--vocab 2048]
//   train --config main-base|main|draft|FILE.json --tokenizer models/tokenizer.json --out models/frugal-main.gguf [--steps N] [--stop-at N]
//   distill --config draft|FILE.json [--teacher models/frugal-main.gguf] --tokenizer models/tokenizer.json --out models/frugal-draft.gguf
//   agreement --teacher models/frugal-main.gguf --model models/frugal-draft.gguf --tokenizer models/tokenizer.json [--n 50] [--tokens 280]
//   eval --model models/frugal-main.gguf --tokenizer models/tokenizer.json [--n 200]
//   validate --model models/frugal-main.gguf --tokenizer models/tokenizer.json [--n 200] [--seed 1]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 0) return Usage();
var opts = new Dictionary<string, string>();
for (int i = 1; i + 1 < args.Length; i += 2)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal)) return Usage($"unexpected argument '{args[i]}'");
    opts[args[i][2..]] = args[i + 1];
}
string Opt(string key, string? fallback = null) =>
    opts.GetValueOrDefault(key) ?? fallback ?? throw new ArgumentException($"missing --{key}");

switch (args[0])
{
    case "tokenizer":
    {
        int vocab = int.Parse(Opt("vocab", "2048"), CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        var tok = BpeTrainer.Train(TokenizerSample(20000), vocab);
        tok.Save(Opt("out"));
        Console.WriteLine($"tokenizer: {tok.VocabSize} tokens ({tok.Merges.Count} merges) in {clock.Elapsed.TotalSeconds:F1}s -> {Opt("out")}");
        return 0;
    }
    case "train":
    case "distill":
    {
        var tok = BpeTokenizer.Load(Opt("tokenizer"));
        var config = Opt("config") switch
        {
            "main" => TrainConfig.MainModel(tok.VocabSize),
            "main-base" => TrainConfig.MainBaseModel(tok.VocabSize),
            "draft" => TrainConfig.DraftModel(tok.VocabSize),
            var file => TrainConfig.FromJson(File.ReadAllText(file), file),
        };
        if (opts.TryGetValue("steps", out var steps)) config = config with { Steps = int.Parse(steps, CultureInfo.InvariantCulture) };
        string output = Opt("out");
        // A config that names a teacher (or --teacher) distills: see TeacherRows. `distill` insists on one.
        if (opts.TryGetValue("teacher", out var teacher)) config = config with { Teacher = teacher };
        if (args[0] == "distill" && config.Teacher is null) return Usage("distill needs --teacher FILE.gguf or \"teacher\" in the config");
        var teacherRows = config.Teacher is null ? null : TeacherRows.Generate(config, tok, Console.WriteLine);
        File.WriteAllText(Path.ChangeExtension(output, ".config.json"), config.ToJson());
        var trainer = new Trainer(config, tok, corpusSeed: config.Seed, teacherRows);
        Console.WriteLine($"{config.Name}: {trainer.Weights.Layout.Count:N0} parameters, {config.Steps} steps");
        int? stopAt = opts.TryGetValue("stop-at", out var stop) ? int.Parse(stop, CultureInfo.InvariantCulture) : null;
        void Report(int step, double loss, double seconds) =>
            Console.WriteLine($"step {step,5}  loss {loss:F4}  lr {config.LearningRateAt(step - 1):E2}  {seconds,7:F0}s");
        if (config.ValidateEvery <= 0)
        {
            trainer.Run(Report, every: 10, checkpoint: _ => GgufExport.Write(trainer.Weights, tok, config.Name, output), checkpointEvery: 100, stopAt: stopAt);
            GgufExport.Write(trainer.Weights, tok, config.Name, output);
            Console.WriteLine($"wrote {output}");
            return 0;
        }
        // Validation on: the output holds the best-scoring checkpoint so far (the last one ties), the validation
        // items come from the training side of the split, and the training run itself is the same as without it.
        var validation = new Validation(tok, config.Shape.Context, config.ValidateItems, config.Seed, config.Threads);
        ValidationScore? best = null;
        void Validate(int step)
        {
            var score = validation.Measure(trainer.Weights, step);
            bool better = best == null || score.Score >= best.Score;
            Console.WriteLine(score + (better ? "  (kept)" : ""));
            if (!better) return;
            best = score;
            GgufExport.Write(trainer.Weights, tok, config.Name, output);
        }
        trainer.Run(Report, every: 10, checkpoint: Validate, checkpointEvery: config.ValidateEvery, stopAt: stopAt);
        if (trainer.Step % config.ValidateEvery != 0) Validate(trainer.Step);
        Console.WriteLine($"wrote {output}: the checkpoint of step {best!.Step} ({best})");
        return 0;
    }
    case "eval":
    {
        var tok = BpeTokenizer.Load(Opt("tokenizer"));
        string model = Opt("model");
        var weights = GgufExport.Load(model, GgufExport.ReadShape(model));
        int n = int.Parse(Opt("n", "200"), CultureInfo.InvariantCulture);
        var eval = new GreedyEvaluator(weights, tok);
        var clock = Stopwatch.StartNew();
        // --recall-filler N measures recall at a shorter distance (a training diagnostic; the measured setting is the default).
        int recallFiller = int.Parse(Opt("recall-filler", RecallDefaults.FillerChars.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        foreach (var task in new[] { EvalTask.Arithmetic, EvalTask.Copy, EvalTask.Recall })
        {
            var items = recallFiller != RecallDefaults.FillerChars && task == EvalTask.Recall
                ? HeldOutSets.Items(task, n, recallFillerChars: recallFiller)
                : HeldOutSets.Items(task, n, accept: task == EvalTask.Recall ? RecallFilter(tok, weights.Shape.Context) : null);
            int shown = 0;
            var parts = new RecallParts();
            var acc = eval.Accuracy(items, (item, text, ok) =>
            {
                if (!ok && shown++ < 3) Console.WriteLine($"  miss: ...{Tail(item.Prompt)} -> '{Esc(text)}' (want '{Esc(item.Expected)}')");
                if (task == EvalTask.Recall) parts.Add(text, item.Expected);
            });
            if (task == EvalTask.Recall) Console.WriteLine($"  recall parts (teacher-forced): {parts}");
            var (lo, hi) = acc.Interval;
            Console.WriteLine($"{task,-10} accuracy {acc.Accuracy:P1} ({acc.Correct}/{acc.Total}), 95% CI [{lo:P1}, {hi:P1}]  {clock.Elapsed.TotalSeconds:F0}s");
        }
        var (ppl, tokens) = eval.Perplexity(HeldOutSets.Stories(n));
        Console.WriteLine($"story perplexity {ppl:F3} over {tokens} tokens");
        var sample = eval.Continue(new SequencePass(weights, weights.Shape.Context), "Once upon a time,", 300);
        Console.WriteLine($"sample: Once upon a time,{sample.Text}");
        return 0;
    }
    case "validate":
    {
        // The trainer's validation pass (training side of the split) on a saved model: what checkpoint selection saw.
        var tok = BpeTokenizer.Load(Opt("tokenizer"));
        string model = Opt("model");
        var weights = GgufExport.Load(model, GgufExport.ReadShape(model));
        var clock = Stopwatch.StartNew();
        var validation = new Validation(tok, weights.Shape.Context, int.Parse(Opt("n", "200"), CultureInfo.InvariantCulture),
            ulong.Parse(Opt("seed", "1"), CultureInfo.InvariantCulture), threads: 2);
        Console.WriteLine($"{validation.Measure(weights, 0)}  {clock.Elapsed.TotalSeconds:F1}s");
        return 0;
    }
    case "agreement":
    {
        // How often a draft's argmax is the teacher's greedy token on the speculative bench's stories (held-out
        // openings, EOS banned): the acceptance rate a distillation aims at, without timing noise.
        var tok = BpeTokenizer.Load(Opt("tokenizer"));
        Frugal.Numerics.Threading.ComputeTeam.ConfigureDefault(1);
        using var teacher = Frugal.Models.ModelLoader.Load(Opt("teacher"));
        using var draft = Frugal.Models.ModelLoader.Load(Opt("model"));
        var report = DraftAgreement.Measure(teacher, draft, tok, int.Parse(Opt("n", "50"), CultureInfo.InvariantCulture), int.Parse(Opt("tokens", "280"), CultureInfo.InvariantCulture));
        foreach (var miss in report.Misses) Console.WriteLine($"  miss: {miss}");
        Console.WriteLine($"agreement {report.Rate:P1} ({report.Agreed}/{report.Total})");
        return 0;
    }
    case "reexport":
    {
        // Rewrites a trained model with the current exporter (metadata changes), weights unchanged (F16 -> F16 is exact).
        var tok = BpeTokenizer.Load(Opt("tokenizer"));
        string model = Opt("model");
        var weights = GgufExport.Load(model, GgufExport.ReadShape(model));
        GgufExport.Write(weights, tok, Opt("name"), Opt("out"));
        Console.WriteLine($"wrote {Opt("out")}");
        return 0;
    }
    case "bench":
    {
        var tok = BpeTokenizer.Load(Opt("tokenizer"));
        var config = Opt("config") == "draft" ? TrainConfig.DraftModel(tok.VocabSize) : TrainConfig.MainBaseModel(tok.VocabSize);
        var lengths = HeldOutSets.Items(EvalTask.Recall, 50).Select(item =>
        {
            int total = 1 + tok.Encode(item.Prompt).Count;
            int factEnd = 1 + tok.Encode(item.Prompt[..(item.Prompt.IndexOf('.') + 1)]).Count;
            return (Total: total, Gap: total - factEnd);
        }).ToList();
        Console.WriteLine($"recall items: total tokens {lengths.Min(l => l.Total)}..{lengths.Max(l => l.Total)}, key gap {lengths.Min(l => l.Gap)}..{lengths.Max(l => l.Gap)}");
        var trainer = new Trainer(config, tok, config.Seed);
        var clock = Stopwatch.StartNew();
        var batcher = new RowBatcher(new CorpusGenerator(9), tok, config.Shape.Context);
        var longRows = Enumerable.Range(0, 50).Select(_ => batcher.LongRow().Tokens.Length).ToList();
        Console.WriteLine($"training recall rows: {longRows.Min()}..{longRows.Max()} tokens");
        for (int i = 0; i < 5; i++) Console.WriteLine($"loss {trainer.TrainStep():F3} at {clock.Elapsed.TotalSeconds:F1}s");
        return 0;
    }
    default:
        return Usage($"unknown command '{args[0]}'");
}

static IEnumerable<string> TokenizerSample(int documents)
{
    var corpus = new CorpusGenerator(SplitMix64.Derive(0, "bpe"));
    for (int i = 0; i < documents; i++) yield return corpus.Next((DocumentKind)(i % 4)).Text;
}

static Func<EvalItem, bool> RecallFilter(BpeTokenizer tok, int context) => RecallDistance.Filter(text => tok.Encode(text).Count, context);

static string Tail(string s) => Esc(s.Length > 40 ? s[^40..] : s);
static string Esc(string s) => s.Replace("\n", "\\n", StringComparison.Ordinal);

static int Usage(string? problem = null)
{
    if (problem != null) Console.Error.WriteLine(problem);
    Console.Error.WriteLine("usage: Frugal.Train tokenizer|train|distill|eval|validate|agreement|bench --option value ...");
    return 2;
}

/// <summary>
/// Which part of a recall answer the model gets right, teacher-forced (a training diagnostic): the name copied from
/// the question, the first code digit (the lookup) and the other three digits (copying from the found fact).
/// </summary>
sealed class RecallParts
{
    private static readonly System.Text.RegularExpressions.Regex Shape = new(@"The code for (\w+) is (\d)(\d{3})");
    private int _n, _name, _first, _rest;

    public void Add(string predicted, string expected)
    {
        var p = Shape.Match(predicted);
        var e = Shape.Match(expected);
        _n++;
        if (!p.Success || !e.Success) return;
        if (p.Groups[1].Value == e.Groups[1].Value) _name++;
        if (p.Groups[2].Value == e.Groups[2].Value) _first++;
        if (p.Groups[3].Value == e.Groups[3].Value) _rest++;
    }

    public override string ToString() => _n == 0 ? "none" : $"name {100.0 * _name / _n:F0}%, first digit {100.0 * _first / _n:F0}%, digits 2-4 {100.0 * _rest / _n:F0}%";
}
