using System.Diagnostics;
using System.Globalization;
using Frugal.Evaluation;
using Frugal.Gguf;
using Frugal.Inference.Engine;
using Frugal.Inference.Generation;
using Frugal.Inference.Sampling;
using Frugal.Inference.Speculation;
using Frugal.Models;
using Frugal.Tokenization;

namespace Frugal.Bench;

/// <summary>
/// Speculative decoding on a main/draft pair (the built-in one by default), plain and speculative runs interleaved
/// round by round so both see the same machine load; ratios of decode tokens/s (drafting counted as decode time).
/// 1 stream (<see cref="TextGenerator"/>): copy-style prompts (prompt lookup), stories (draft model), random text
/// (auto: the worst case, where the controller should stop drafting). 8 busy streams (<see cref="InferenceEngine"/>,
/// auto with the default crowding rule): aggregate completion tokens/s over the wall time. Then the cost of verifying
/// k drafted tokens in one step relative to a one-token step, on the main model and on an optional bigger file.
/// </summary>
internal static class SpeculativeBench
{
    public sealed record Options(string Main, string Draft, int Tokens, int Rounds, string? Big, int? Threads = null, string? Workloads = null);

    public static int Run(string[] args)
    {
        string dir = ModelsDirectory();
        var o = new Options(Path.Combine(dir, "frugal-main.gguf"), Path.Combine(dir, "frugal-draft.gguf"), 96, 5, null);
        for (int i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length) { Console.Error.WriteLine($"error: {args[i]} needs a value"); return 2; }
            string v = args[i + 1];
            o = args[i] switch
            {
                "--main" => o with { Main = v },
                "--draft" => o with { Draft = v },
                "--tokens" => o with { Tokens = int.Parse(v, CultureInfo.InvariantCulture) },
                "--rounds" => o with { Rounds = int.Parse(v, CultureInfo.InvariantCulture) },
                "--big" => o with { Big = v },
                "--write-workloads" => o with { Workloads = v },
                "--threads" => o with { Threads = int.Parse(v, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option {args[i]}; expected --main, --draft, --tokens, --rounds, --big, --threads"),
            };
        }
        if (o.Threads is int threads) Frugal.Numerics.Threading.ComputeTeam.ConfigureDefault(threads);
        using var main = ModelLoader.Load(o.Main);
        using var draft = ModelLoader.Load(o.Draft);
        Tokenizer tokenizer;
        using (var f = GgufFile.Open(o.Main)) tokenizer = Tokenizer.FromGguf(f);
        Console.WriteLine($"main {Path.GetFileName(o.Main)}, draft {Path.GetFileName(o.Draft)}, {o.Tokens} tokens, {o.Rounds} rounds, {Frugal.Numerics.Threading.ComputeTeam.Default.ThreadCount} threads; load {Load()}");

        var copies = HeldOutSets.Items(EvalTask.Copy, 6).Select(i => i.Prompt + i.Expected + "\n" + i.Prompt).ToArray();
        var stories = HeldOutSets.Stories(6).Select(s => string.Join(' ', s.Split(' ').Take(12))).ToArray();
        var random = new Random(5);
        var words = tokenizer.Encode("zq xv kkp lom ww 93 qq jj; yv bb :: pp", addSpecial: false);
        var salad = Enumerable.Range(0, 6).Select(_ => string.Join("", Enumerable.Range(0, 24).Select(_ => tokenizer.Decode([words[random.Next(words.Length)]])))).ToArray();

        if (o.Workloads is not null)
        {
            // The same prompts for node-llama-cpp's speculative.mjs (llama.cpp's draft and lookup predictors).
            File.WriteAllText(o.Workloads, System.Text.Json.JsonSerializer.Serialize(new object[]
            {
                new { name = "copy (1 stream)", predictor = "lookup", prompts = copies },
                new { name = "stories (1 stream)", predictor = "draft", prompts = stories },
                new { name = "random text (1 stream)", predictor = "lookup", prompts = salad },
                new { name = "random text (1 stream)", predictor = "draft", prompts = salad },
            }));
            Console.WriteLine($"wrote {o.Workloads}");
        }
        Console.WriteLine("| workload | mode | plain tok/s | spec tok/s | speedup | accepted/drafted |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        Single(main, draft, tokenizer, o, "copy (1 stream)", copies, SpeculationMode.Lookup);
        // The copied answer alone: generation stops at the end of its line, as a caller with a stop string would have it.
        Single(main, draft, tokenizer, o, "copy, answer only (1 stream)", copies, SpeculationMode.Lookup, stop: ["\n"]);
        Single(main, draft, tokenizer, o, "stories (1 stream)", stories, SpeculationMode.Draft);
        Single(main, draft, tokenizer, o, "stories (1 stream)", stories, SpeculationMode.Auto);
        Single(main, draft, tokenizer, o, "random text (1 stream)", salad, SpeculationMode.Auto);
        Busy(main, draft, tokenizer, o, stories.Concat(copies).Take(8).ToArray());
        Console.WriteLine();
        VerifyCost(main, "main", o.Rounds);
        VerifyCost(draft, "draft " + Path.GetFileName(o.Draft), o.Rounds);
        SpeculativeBound.Print(main, tokenizer, "copy", copies, o.Tokens);
        SpeculativeBound.Print(main, tokenizer, "copy, answer only", copies, o.Tokens, stop: ["\n"]);
        if (o.Big is not null)
        {
            using var big = ModelLoader.Load(o.Big);
            VerifyCost(big, Path.GetFileName(o.Big), Math.Max(2, o.Rounds / 2));
        }
        Console.WriteLine($"load after: {Load()}");
        return 0;
    }

    private static void Single(ILanguageModel main, ILanguageModel draft, Tokenizer tokenizer, Options o, string name, string[] prompts, SpeculationMode mode,
        IReadOnlyList<string>? stop = null)
    {
        var generator = new TextGenerator(main, tokenizer);
        var plainOptions = new GenerationOptions { MaxTokens = o.Tokens, IgnoreEos = stop is null, StopStrings = stop ?? [], Sampling = SamplingOptions.Greedy };
        var specOptions = plainOptions with { Speculation = new SpeculationOptions { Mode = mode, DraftModel = draft } };
        generator.Generate(prompts[0], plainOptions); // warm up both paths (JIT)
        generator.Generate(prompts[0], specOptions);
        double plainTime = 0, specTime = 0;
        long plainTokens = 0, specTokens = 0, drafted = 0, accepted = 0;
        for (int r = 0; r < o.Rounds; r++)
            foreach (string p in prompts)
            {
                var a = generator.Generate(p, plainOptions).Timings;
                var b = generator.Generate(p, specOptions).Timings;
                plainTime += a.Decode.TotalSeconds; plainTokens += a.DecodeTokens;
                specTime += b.Decode.TotalSeconds; specTokens += b.DecodeTokens;
                drafted += b.Speculation.Drafted; accepted += b.Speculation.Accepted;
            }
        double plain = plainTokens / plainTime, spec = specTokens / specTime;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {mode.ToString().ToLowerInvariant()} | {plain:F0} | {spec:F0} | {spec / plain:F2}x | {accepted}/{drafted} |"));
    }

    private static void Busy(ILanguageModel main, ILanguageModel draft, Tokenizer tokenizer, Options o, string[] prompts)
    {
        var engineOptions = new EngineOptions { MaxRunningSequences = 8, ContextLength = 512 };
        var spec = new SpeculationOptions { Mode = SpeculationMode.Auto, DraftModel = draft };
        var tokens = prompts.Select(p => tokenizer.Encode(p)).ToArray();
        using var plainEngine = new InferenceEngine(main, tokenizer, engineOptions);
        using var specEngine = new InferenceEngine(main, tokenizer, engineOptions with { Speculation = spec });
        double Round(InferenceEngine engine)
        {
            var clock = Stopwatch.StartNew();
            var done = Task.WhenAll(tokens.Select(t => engine.Submit(new EngineRequest
            {
                PromptTokens = t, MaxTokens = o.Tokens, IgnoreEos = true, Sampling = SamplingOptions.Greedy,
            }).CompleteAsync())).GetAwaiter().GetResult();
            return done.Sum(c => c.Finished.CompletionTokens) / clock.Elapsed.TotalSeconds;
        }
        // A/A control: a second engine without speculation, measured the same way, shows the noise of the comparison.
        using var controlEngine = new InferenceEngine(main, tokenizer, engineOptions);
        Round(plainEngine);
        Round(specEngine);
        Round(controlEngine);
        double plain = 0, specRate = 0, control = 0;
        for (int r = 0; r < o.Rounds; r++)
        {
            // Rotating which goes first, so a load spike does not always land on the same side.
            var order = new (InferenceEngine Engine, int Slot)[] { (plainEngine, 0), (specEngine, 1), (controlEngine, 2) };
            for (int j = 0; j < 3; j++)
            {
                var (engine, slot) = order[(j + r) % 3];
                double rate = Round(engine);
                if (slot == 0) plain += rate; else if (slot == 1) specRate += rate; else control += rate;
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| 8 busy streams, A/A control (no speculation on either side) | off | {plain / o.Rounds:F0} | {control / o.Rounds:F0} | {control / plain:F2}x | - |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| 8 busy streams (aggregate) | auto | {plain / o.Rounds:F0} | {specRate / o.Rounds:F0} | {specRate / plain:F2}x | {specEngine.Metrics.SpeculativeAccepted}/{specEngine.Metrics.SpeculativeDrafted} |"));
    }

    /// <summary>Time of one step evaluating 1 + k tokens relative to a one-token step, after a 64-token prefix.</summary>
    private static void VerifyCost(ILanguageModel model, string name, int rounds)
    {
        int vocab = model.Config.VocabSize;
        var logits = new float[9 * vocab];
        var prefix = Enumerable.Range(0, 64).Select(i => 10 + i % 50).ToArray();
        var cache = model.CreateCache(128);
        model.Forward(prefix, cache, logits.AsSpan(0, vocab));
        double Time(int n)
        {
            var tokens = Enumerable.Range(0, n).Select(i => 20 + i).ToArray();
            var best = double.MaxValue;
            for (int r = 0; r < rounds * 4; r++)
            {
                cache.Truncate(64);
                long t0 = Stopwatch.GetTimestamp();
                model.Forward(tokens, cache, logits.AsSpan(0, n * vocab), allLogits: true);
                best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            return best;
        }
        double one = Time(1);
        var cells = new[] { 2, 3, 5, 9 }.Select(n => string.Create(CultureInfo.InvariantCulture, $"{n} tokens {Time(n) / one:F2}x"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"verify cost on {name}: 1 token {one:F3} ms; {string.Join(", ", cells)}"));
    }

    /// <summary>The repository's models/ folder, found above the bench's own directory.</summary>
    private static string ModelsDirectory()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "models", "frugal-main.gguf"))) return Path.Combine(d.FullName, "models");
        return "models";
    }

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
