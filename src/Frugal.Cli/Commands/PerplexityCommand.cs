using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Frugal.Evaluation;
using Frugal.Models;
using Frugal.Numerics.Attention;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal perplexity MODEL FILE [--ctx N] [--batch N] [-t N] [-ctk T] [-ctv T] [--json]</c>: perplexity of a text file as
/// llama.cpp's perplexity tool measures it (see <see cref="PerplexityWindows"/>): prints the running estimate
/// after each window (<c>[1]3.1234,[2]...</c>) and then <c>Final estimate: PPL = X +/- Y</c>.
/// With <c>--kl-divergence-base BASE</c> alone it also saves the log-probabilities of every scored token to BASE;
/// with <c>--kl-divergence BASE</c> (or llama.cpp's <c>--kl-divergence --kl-divergence-base BASE</c>) it evaluates the
/// same windows and compares each token's distribution with the base's (see <see cref="KlDivergence"/>).
/// </summary>
internal static class PerplexityCommand
{
    public static Command Create(CliContext context)
    {
        var model = CommonArguments.Model();
        var file = new Argument<string>("FILE") { Description = "text file (UTF-8) to measure" };
        var ctx = new Option<int?>("--ctx", "-c") { Description = "tokens per window (default: the model's context; with --kl-divergence: the base file's)" };
        var batch = new Option<int?>("--batch", "-b") { Description = "tokens per forward call inside a window (default: min(512, window))" };
        var klBase = new Option<string?>("--kl-divergence-base")
        {
            Description = "alone: also save the log-probabilities of every scored token to this file; with --kl-divergence: the base file to compare with",
        };
        var kl = new Option<string?>("--kl-divergence")
        {
            Description = "compare with a base file (BASE, or the one --kl-divergence-base names): KL divergence, same top token, PPL ratio",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var threads = ThreadsOption.Create();
        var json = CommonArguments.Json();
        var kv = new KvCacheTypeOptions();
        var command = new Command("perplexity", "perplexity of a text file (llama.cpp's definition: windows of n_ctx, second half scored)")
        {
            model, file, ctx, batch, kl, klBase, threads, json,
        };
        kv.AddTo(command);
        var retention = new KvRetentionCliOptions(shift: false);
        retention.AddTo(command);
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            int? c = parse.GetValue(ctx), b = parse.GetValue(batch);
            if (c is < PerplexityWindows.MinContextLength)
                throw new CliError($"--ctx: expected at least {PerplexityWindows.MinContextLength} tokens, got {c}");
            if (b is < 1) throw new CliError($"--batch: expected at least 1 token, got {b}");
            var cacheTypes = kv.Parse(parse);
            var kvRetention = retention.Parse(parse);
            string? compareWith = BaseToCompare(parse.GetResult(kl) is not null, parse.GetValue(kl), parse.GetValue(klBase));
            string? saveTo = compareWith is null ? parse.GetValue(klBase) : null;
            ThreadsOption.Apply(parse.GetValue(threads));
            string textPath = parse.GetValue(file)!;
            if (!File.Exists(textPath)) throw new CliError($"text file not found: '{textPath}'");
            string text = File.ReadAllText(textPath);
            if (text.Length == 0) throw new CliError($"'{textPath}' is empty: there is nothing to measure");
            if (compareWith is not null && !File.Exists(compareWith)) throw new CliError($"base file not found: '{compareWith}'");
            string modelPath = HubModels.Resolve(context, parse.GetValue(model)!);
            if (saveTo is not null && (SamePath(saveTo, textPath) || SamePath(saveTo, modelPath)))
                throw new CliError($"--kl-divergence-base: '{saveTo}' is an input of this run; name a new file for the base");
            using var baseFile = compareWith is null ? null : BaseLogitsFile.Open(compareWith);

            using var gguf = CommonArguments.Open(modelPath);
            using var lm = context.LoadModel(gguf, ModelLoadOptions.Default);
            KvCacheTypeOptions.CheckFits(cacheTypes, lm.Config);
            var tokenizer = context.LoadTokenizer(gguf);
            int window = c ?? baseFile?.ContextLength ?? lm.Config.ContextLength;
            if (window > lm.Config.ContextLength)
                throw new CliError(c is null && baseFile is not null
                    ? $"the base file's windows of {window} tokens exceed the model's context length {lm.Config.ContextLength}"
                    : $"--ctx: {window} tokens exceed the model's context length {lm.Config.ContextLength}");
            int perCall = Math.Min(b ?? 512, window);
            int[] tokens = WindowedPerplexity.Tokenize(tokenizer, text);
            if (tokens.Length < PerplexityWindows.MinimumTokens(window))
                throw new CliError($"'{textPath}' tokenizes to only {tokens.Length} tokens; a window of {window} needs at least " +
                                   $"{PerplexityWindows.MinimumTokens(window)} (two windows, as llama.cpp requires): give a longer text or a smaller --ctx");
            var windows = new PerplexityWindows(tokens, window, perCall, tokenizer.AddBos ? tokenizer.BosId : null) { CacheTypes = cacheTypes, KvRetention = kvRetention };
            KvRetentionCliOptions.CheckFits(kvRetention, window);
            bool asJson = parse.GetValue(json);
            return baseFile is null
                ? Perplexity(context, lm, windows, saveTo, asJson)
                : Divergence(context, lm, windows, baseFile, asJson);
        }));
        return command;
    }

    /// <summary>
    /// The base file to compare with, or null for a plain run: <c>--kl-divergence BASE</c> (the spelling) or
    /// <c>--kl-divergence --kl-divergence-base BASE</c> (llama.cpp's).
    /// </summary>
    private static string? BaseToCompare(bool compare, string? named, string? basePath)
    {
        if (!compare) return null;
        if (named is not null && basePath is not null && !SamePath(named, basePath))
            throw new CliError($"--kl-divergence names '{named}' but --kl-divergence-base names '{basePath}': give the base file once");
        return named ?? basePath ?? throw new CliError(
            "--kl-divergence: name the base file (--kl-divergence BASE, or --kl-divergence --kl-divergence-base BASE); " +
            "write one first with --kl-divergence-base BASE alone");
    }

    private static bool SamePath(string a, string b) => Path.GetFullPath(a) == Path.GetFullPath(b);

    private static int Perplexity(CliContext context, ILanguageModel lm, PerplexityWindows windows, string? saveTo, bool asJson)
    {
        context.Error.WriteLine($"perplexity: {windows.Tokens.Count} tokens, {windows.Count} windows of {windows.ContextLength} " +
                                $"(batch {windows.BatchSize}), scoring the second half of each; KV cache {windows.CacheTypes}, KV retention {windows.KvRetention}");
        using var writer = saveTo is null ? null : BaseLogitsFile.Create(saveTo, windows, lm.Config.VocabSize);
        long started = Stopwatch.GetTimestamp();
        var result = WindowedPerplexity.Measure(lm, windows, (chunk, ppl) =>
        {
            if (asJson) return;
            context.Out.Write(string.Create(CultureInfo.InvariantCulture, $"[{chunk}]{ppl:F4},"));
            context.Out.Flush();
        }, writer, context.Cancellation);
        writer?.Complete();
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (asJson)
        {
            JsonText.WriteLine(context.Out, j =>
            {
                j.WriteNumber("perplexity", result.Perplexity);
                j.WriteNumber("error", result.Error);
                j.WriteNumber("tokens", result.Tokens);
                j.WriteNumber("chunks", result.Chunks);
                j.WriteNumber("ctx", result.ContextLength);
                j.WriteNumber("scored_tokens", result.ScoredTokens);
                j.WriteString("kv_type_k", KvElementTypes.Name(windows.CacheTypes.Keys));
                j.WriteString("kv_type_v", KvElementTypes.Name(windows.CacheTypes.Values));
                j.WriteBoolean("kv_rotate_k", windows.CacheTypes.RotateKeys);
            });
        }
        else
        {
            context.Out.WriteLine();
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Final estimate: PPL = {result.Perplexity:F4} +/- {result.Error:F5}"));
        }
        if (saveTo is not null)
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"saved the log-probabilities of {result.ScoredTokens} scored tokens ({new FileInfo(saveTo).Length / 1048576.0:F1} MiB) to '{saveTo}'"));
        ReportSpeed(context, result.ScoredTokens, result.Chunks * windows.ContextLength, seconds);
        return 0;
    }

    private static int Divergence(CliContext context, ILanguageModel lm, PerplexityWindows windows, BaseLogitsReader baseFile, bool asJson)
    {
        baseFile.EnsureMatches(windows, lm.Config.VocabSize);
        context.Error.WriteLine($"kl-divergence: {windows.Tokens.Count} tokens, {windows.Count} windows of {windows.ContextLength} " +
                                $"(batch {windows.BatchSize}), KV cache {windows.CacheTypes}, comparing the second half of each with '{baseFile.Path}'");
        if (!asJson) KlDivergenceReport.WriteChunkHeader(context.Out);
        long started = Stopwatch.GetTimestamp();
        var result = KlDivergence.Measure(lm, windows, baseFile, (chunk, running) =>
        {
            if (asJson) return;
            KlDivergenceReport.WriteChunk(context.Out, chunk, running);
            context.Out.Flush();
        }, context.Cancellation);
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (asJson) KlDivergenceReport.WriteJson(context.Out, result);
        else KlDivergenceReport.WriteSummary(context.Out, result);
        ReportSpeed(context, result.ScoredTokens, result.Chunks * windows.ContextLength, seconds);
        return 0;
    }

    private static void ReportSpeed(CliContext context, int scored, int evaluated, double seconds) =>
        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scored {scored} tokens in {seconds:F2} s ({evaluated / Math.Max(seconds, 1e-9):F1} tokens/s evaluated)"));
}
