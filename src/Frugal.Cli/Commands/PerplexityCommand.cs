using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Frugal.Evaluation;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal perplexity MODEL FILE [--ctx N] [--batch N] [-t N] [--json]</c>: perplexity of a text file as
/// llama.cpp's perplexity tool measures it (see <see cref="WindowedPerplexity"/>): prints the running estimate
/// after each window (<c>[1]3.1234,[2]...</c>) and then <c>Final estimate: PPL = X +/- Y</c>.
/// </summary>
internal static class PerplexityCommand
{
    public static Command Create(CliContext context)
    {
        var model = CommonArguments.Model();
        var file = new Argument<string>("FILE") { Description = "text file (UTF-8) to measure" };
        var ctx = new Option<int?>("--ctx", "-c") { Description = "tokens per window (default: the model's context)" };
        var batch = new Option<int?>("--batch", "-b") { Description = "tokens per forward call inside a window (default: min(512, window))" };
        var threads = ThreadsOption.Create();
        var json = CommonArguments.Json();
        var command = new Command("perplexity", "perplexity of a text file (llama.cpp's definition: windows of n_ctx, second half scored)")
        {
            model, file, ctx, batch, threads, json,
        };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            int? c = parse.GetValue(ctx), b = parse.GetValue(batch);
            if (c is < WindowedPerplexity.MinContextLength)
                throw new CliError($"--ctx: expected at least {WindowedPerplexity.MinContextLength} tokens, got {c}");
            if (b is < 1) throw new CliError($"--batch: expected at least 1 token, got {b}");
            ThreadsOption.Apply(parse.GetValue(threads));
            string textPath = parse.GetValue(file)!;
            if (!File.Exists(textPath)) throw new CliError($"text file not found: '{textPath}'");
            string text = File.ReadAllText(textPath);
            if (text.Length == 0) throw new CliError($"'{textPath}' is empty: there is nothing to measure");

            using var gguf = CommonArguments.Open(parse.GetValue(model)!);
            using var lm = context.LoadModel(gguf);
            var tokenizer = context.LoadTokenizer(gguf);
            int window = c ?? lm.Config.ContextLength;
            if (window > lm.Config.ContextLength)
                throw new CliError($"--ctx: {window} tokens exceed the model's context length {lm.Config.ContextLength}");
            int perCall = Math.Min(b ?? 512, window);
            int[] tokens = WindowedPerplexity.Tokenize(tokenizer, text);
            if (tokens.Length < WindowedPerplexity.MinimumTokens(window))
                throw new CliError($"'{textPath}' tokenizes to only {tokens.Length} tokens; a window of {window} needs at least " +
                                   $"{WindowedPerplexity.MinimumTokens(window)} (two windows, as llama.cpp requires): give a longer text or a smaller --ctx");

            bool asJson = parse.GetValue(json);
            int? bos = tokenizer.AddBos ? tokenizer.BosId : null;
            context.Error.WriteLine($"perplexity: {tokens.Length} tokens, {tokens.Length / window} windows of {window} (batch {perCall}), scoring the second half of each");
            long started = Stopwatch.GetTimestamp();
            var result = WindowedPerplexity.Measure(lm, tokens, window, perCall, bos, (chunk, ppl) =>
            {
                if (asJson) return;
                context.Out.Write(string.Create(CultureInfo.InvariantCulture, $"[{chunk}]{ppl:F4},"));
                context.Out.Flush();
            }, context.Cancellation);
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
                });
            }
            else
            {
                context.Out.WriteLine();
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Final estimate: PPL = {result.Perplexity:F4} +/- {result.Error:F5}"));
            }
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"scored {result.ScoredTokens} tokens in {seconds:F2} s ({result.Chunks * window / Math.Max(seconds, 1e-9):F1} tokens/s evaluated)"));
            return 0;
        }));
        return command;
    }
}
