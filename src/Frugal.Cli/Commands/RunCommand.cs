using System.CommandLine;
using System.Globalization;
using Frugal.Inference.Benchmarking;
using Frugal.Inference.Generation;
using Frugal.Inference.Sampling;
using Frugal.Models;
using Frugal.Inference.Speculation;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal run MODEL (-p TEXT | -f FILE | &lt; stdin) [-n N] [sampling options] [--stop S]... [-ctk T] [-ctv T] [--kv-budget N --kv-policy P --kv-sinks S]
/// [--context-shift --keep N] [--ignore-eos] [--spec M --draft F --draft-max N] [--grammar G | --grammar-file F | --json-schema S | --json-object] [--json]</c>, or <c>frugal run --demo</c>:
/// streams the generated text to stdout and a one-line timing summary to stderr.
/// </summary>
internal static class RunCommand
{
    public const string DemoPrompt = "Once upon a time";

    private static readonly SamplingOptions Defaults = new();

    /// <summary>CLI spelling of each <see cref="SamplingOptions"/> / <see cref="GenerationOptions"/> property, for error messages.</summary>
    private static readonly Dictionary<string, string> OptionNames = new()
    {
        [nameof(SamplingOptions.Temperature)] = "--temp",
        [nameof(SamplingOptions.TopK)] = "--top-k",
        [nameof(SamplingOptions.TopP)] = "--top-p",
        [nameof(SamplingOptions.MinP)] = "--min-p",
        [nameof(SamplingOptions.RepeatPenalty)] = "--repeat-penalty",
        [nameof(SamplingOptions.PenaltyLastN)] = "--repeat-last-n",
        [nameof(SamplingOptions.PresencePenalty)] = "--presence-penalty",
        [nameof(SamplingOptions.FrequencyPenalty)] = "--frequency-penalty",
        [nameof(GenerationOptions.MaxTokens)] = "-n",
        [nameof(GenerationOptions.ContextLength)] = "--ctx-size",
        [nameof(GenerationOptions.StopStrings)] = "--stop",
    };

    public static Command Create(CliContext context)
    {
        var model = new Argument<string?>("MODEL") { Description = HubModels.ModelHelp + " (default: the built-in model)", Arity = ArgumentArity.ZeroOrOne };
        var prompt = new Option<string?>("--prompt", "-p") { Description = "the prompt text (or -f FILE, or pipe it on standard input)" };
        var promptFile = PromptSource.FileOption();
        var count = new Option<int>("--n-predict", "-n") { Description = "tokens to generate (-1 = until end of text or a full context)", DefaultValueFactory = _ => 128 };
        var temp = new Option<float>("--temp") { Description = "temperature (0 = greedy)", DefaultValueFactory = _ => Defaults.Temperature };
        var topK = new Option<int>("--top-k") { Description = "top-k (0 = disabled)", DefaultValueFactory = _ => Defaults.TopK };
        var topP = new Option<float>("--top-p") { Description = "top-p (1 = disabled)", DefaultValueFactory = _ => Defaults.TopP };
        var minP = new Option<float>("--min-p") { Description = "min-p (0 = disabled)", DefaultValueFactory = _ => Defaults.MinP };
        var repeat = new Option<float>("--repeat-penalty") { Description = "repetition penalty (1 = disabled)", DefaultValueFactory = _ => Defaults.RepeatPenalty };
        var lastN = new Option<int>("--repeat-last-n") { Description = "tokens the penalties look at (-1 = context, 0 = disabled)", DefaultValueFactory = _ => Defaults.PenaltyLastN };
        var presence = new Option<float>("--presence-penalty") { Description = "presence penalty (0 = disabled)" };
        var frequency = new Option<float>("--frequency-penalty") { Description = "frequency penalty (0 = disabled)" };
        var seed = new Option<ulong?>("--seed", "-s") { Description = "random seed (same seed, same output); random when omitted" };
        var logitBias = LogitBiasOption.Create();
        var stop = new Option<string[]>("--stop") { Description = "stop when this text appears (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var ctx = new Option<int?>("--ctx-size", "-c") { Description = "context length (default: the model's)" };
        var json = CommonArguments.Json();
        var demo = new Option<bool>("--demo") { Description = "run a small random-weight model written on first use (no MODEL needed)" };
        var threads = ThreadsOption.Create();
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "never end on an end-of-generation token: generate -n tokens (llama.cpp's)" };
        var kv = new KvCacheTypeOptions();
        var retention = new KvRetentionCliOptions(shift: true);
        var grammar = new GrammarCliOptions();
        var memory = new MemoryBudgetOptions();
        var speculation = new SpeculationCliOptions();
        var command = new Command("run", "generate text from a prompt")
        {
            model, prompt, promptFile, count, temp, topK, topP, minP, repeat, lastN, presence, frequency, seed, logitBias, stop, ctx, json, demo, threads, ignoreEos,
        };
        kv.AddTo(command);
        retention.AddTo(command);
        grammar.AddTo(command);
        memory.AddTo(command);
        speculation.AddTo(command);
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            string? path = parse.GetValue(model);
            bool isDemo = parse.GetValue(demo);
            if (isDemo && path is not null) throw new CliError("give either MODEL or --demo, not both");
            if (!isDemo && path is null)
            {
                path = context.DefaultModelPath;
                if (!File.Exists(path))
                    throw new CliError($"no MODEL given and the built-in model is missing at '{path}': give the path of a GGUF file (or --demo)");
            }
            string? text = PromptSource.Read(context, parse.GetValue(prompt), parse.GetValue(promptFile)) ?? (isDemo ? DemoPrompt : null);
            if (text is null) throw new CliError("missing prompt: give -p TEXT, -f FILE, or pipe text on standard input");
            var cacheTypes = kv.Parse(parse);
            var kvRetention = retention.Parse(parse);
            var constraint = grammar.Parse(parse);
            var loadOptions = memory.Parse(parse);

            var options = Options(() => new GenerationOptions
            {
                MaxTokens = parse.GetValue(count),
                ContextLength = parse.GetValue(ctx),
                StopStrings = parse.GetValue(stop) ?? [],
                KvCacheTypes = cacheTypes,
                KvRetention = kvRetention,
                IgnoreEos = parse.GetValue(ignoreEos),
                Grammar = constraint,
                Sampling = new SamplingOptions
                {
                    Temperature = parse.GetValue(temp),
                    TopK = parse.GetValue(topK),
                    TopP = parse.GetValue(topP),
                    MinP = parse.GetValue(minP),
                    RepeatPenalty = parse.GetValue(repeat),
                    PenaltyLastN = parse.GetValue(lastN),
                    PresencePenalty = parse.GetValue(presence),
                    FrequencyPenalty = parse.GetValue(frequency),
                    Seed = parse.GetValue(seed),
                },
            });

            loadOptions = loadOptions with { ContextLength = options.ContextLength }; // LongRoPE picks its factors by it (null: the model's)
            ThreadsOption.Apply(parse.GetValue(threads));
            if (isDemo) path = DemoModel.EnsureFile(context.DemoDirectory, context.Error);
            else path = HubModels.Resolve(context, path!);
            var (specMode, draftPath, draftMax) = speculation.Parse(parse, context, path!);
            using var file = CommonArguments.Open(path!);
            using var lm = LoadProgress.Run(context, Path.GetFileName(path!), () => MemoryBudgetOptions.Load(context, file, loadOptions));
            KvCacheTypeOptions.CheckFits(cacheTypes, lm.Config);
            KvRetentionCliOptions.CheckFits(kvRetention, options.ContextLength ?? lm.Config.ContextLength);
            options = options with { Sampling = options.Sampling with { LogitBias = LogitBiasOption.Parse(parse.GetValue(logitBias), lm.Config.VocabSize) } };
            using var draftModel = draftPath is null ? null : Frugal.Models.ModelLoader.Load(draftPath);
            options = options with { Speculation = new SpeculationOptions { Mode = specMode, DraftModel = draftModel, DraftMax = draftMax } };
            try
            {
                options.Speculation.Validate(lm.Config);
            }
            catch (ArgumentException e)
            {
                throw new CliError($"--draft: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}");
            }
            var tokenizer = context.LoadTokenizer(file);
            var generator = new TextGenerator(lm, tokenizer);
            if (parse.GetValue(json))
            {
                var result = generator.Generate(text, options, null, context.Cancellation);
                WriteJson(context.Out, result, lm);
            }
            else
            {
                var result = generator.Generate(text, options, piece =>
                {
                    context.Out.Write(piece.Text);
                    context.Out.Flush();
                }, context.Cancellation);
                context.Out.WriteLine();
                context.Error.WriteLine(Summary(result));
                if (lm.StreamCounters is { } streamed) context.Error.WriteLine(WeightStreamSummary.Line(lm.Residency!, streamed));
            }
            return 0;
        }));
        return command;
    }

    /// <summary>Builds the options, turning a rejected value into an error that names the command-line option.</summary>
    private static GenerationOptions Options(Func<GenerationOptions> build)
    {
        try
        {
            return build();
        }
        catch (ArgumentException e) when (e.ParamName is not null && OptionNames.TryGetValue(e.ParamName, out var option))
        {
            string message = e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            throw new CliError($"{option}: {message}");
        }
    }

    internal static string Summary(GenerationResult r)
    {
        var t = r.Timings;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"prefill: {t.PromptTokens} tokens in {t.Prefill.TotalSeconds:F3} s ({t.PrefillTokensPerSecond:F1} tok/s) | " +
            $"decode: {t.DecodeTokens} tokens in {t.Decode.TotalSeconds:F3} s ({t.DecodeTokensPerSecond:F1} tok/s) | " +
            $"sampling: {t.Sampling.TotalMilliseconds:F1} ms | stop: {StopName(r.StopReason)}");
        return t.Speculation.Drafted > 0 ? line + $" | spec: {t.Speculation.Accepted}/{t.Speculation.Drafted} drafted tokens accepted" : line;
    }

    private static string StopName(StopReason reason) => reason switch
    {
        StopReason.EndOfGeneration => "end_of_generation",
        StopReason.MaxTokens => "max_tokens",
        StopReason.StopString => "stop_string",
        _ => "context_full",
    };

    private static void WriteJson(TextWriter output, GenerationResult r, ILanguageModel lm) => JsonText.WriteLine(output, j =>
    {
        var t = r.Timings;
        JsonText.WriteIds(j, "prompt_tokens", r.PromptTokens);
        JsonText.WriteIds(j, "tokens", r.Tokens);
        j.WriteString("text", r.Text);
        j.WriteString("stop_reason", StopName(r.StopReason));
        j.WriteStartObject("timings");
        j.WriteNumber("prompt_tokens", t.PromptTokens);
        j.WriteNumber("prefill_ms", t.Prefill.TotalMilliseconds);
        j.WriteNumber("prefill_tokens_per_second", t.PrefillTokensPerSecond);
        j.WriteNumber("decode_tokens", t.DecodeTokens);
        j.WriteNumber("decode_ms", t.Decode.TotalMilliseconds);
        j.WriteNumber("decode_tokens_per_second", t.DecodeTokensPerSecond);
        j.WriteNumber("sampled_tokens", t.SampledTokens);
        j.WriteNumber("sampling_ms", t.Sampling.TotalMilliseconds);
        j.WriteStartObject("spec");
        j.WriteNumber("drafted", t.Speculation.Drafted);
        j.WriteNumber("accepted", t.Speculation.Accepted);
        j.WriteEndObject();
        j.WriteEndObject();
        j.WriteNumber("peak_rss_mb", ProcessMemory.PeakResidentBytes() / 1e6);
        WeightStreamSummary.WriteJson(j, lm);
    });
}
