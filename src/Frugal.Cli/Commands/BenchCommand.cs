using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Frugal.Inference.Benchmarking;
using Frugal.Models;
using Frugal.Numerics.Attention;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal bench MODEL [-p 128] [-n 64] [-d 0] [-t N] [-r 3] [-ctk f16] [-ctv f16] [--membw-mib 1024 | --no-membw] [--json]</c>: prefill (pp)
/// and decode (tg) tokens/s as llama-bench measures them — a prefill of -p random tokens in one batch, then -n
/// single-token decode steps continuing it, both after -d tokens of context evaluated untimed (llama-bench's depth,
/// <c>pp512 @ d4096</c>) — as medians over the repetitions, with the weight bandwidth decode achieved, the
/// machine's memory read bandwidth measured around the rounds on the same threads, and decode's share of it, peak RSS
/// and load time.
/// </summary>
internal static class BenchCommand
{
    private const double Mega = 1e6, Giga = 1e9;

    public static Command Create(CliContext context)
    {
        var model = CommonArguments.Model();
        var prompt = new Option<int>("--n-prompt", "-p") { Description = "prompt tokens evaluated in one batch (pp)", DefaultValueFactory = _ => 128 };
        var gen = new Option<int>("--n-gen", "-n") { Description = "tokens decoded one at a time after the prompt (tg)", DefaultValueFactory = _ => 64 };
        var depth = new Option<int>("--depth", "-d") { Description = "tokens evaluated untimed into the cache before each round's prefill (llama-bench's depth)", DefaultValueFactory = _ => 0 };
        var reps = new Option<int>("--reps", "-r") { Description = "timed repetitions (medians are reported)", DefaultValueFactory = _ => 3 };
        var threads = ThreadsOption.Create();
        var membwMib = MembwCommand.SizeOption("--membw-mib");
        var noMembw = new Option<bool>("--no-membw") { Description = "skip the memory read-bandwidth probe (saves its buffer's RAM and the seconds of writing it)" };
        var json = CommonArguments.Json();
        var kv = new KvCacheTypeOptions();
        var command = new Command("bench", "measure prefill and decode speed (llama-bench style pp/tg) and decode's share of the memory read bandwidth")
        {
            model, prompt, gen, depth, reps, threads, membwMib, noMembw, json,
        };
        kv.AddTo(command);
        var retention = new KvRetentionCliOptions(shift: false);
        retention.AddTo(command);
        var memory = new MemoryBudgetOptions();
        memory.AddTo(command);
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            int p = parse.GetValue(prompt), n = parse.GetValue(gen), d = parse.GetValue(depth), r = parse.GetValue(reps);
            if (p < 1) throw new CliError($"-p/--n-prompt: expected at least 1 token, got {p}");
            if (n < 1) throw new CliError($"-n/--n-gen: expected at least 1 token, got {n}");
            if (d < 0) throw new CliError($"-d/--depth: expected 0 or more tokens, got {d}");
            if (r < 1) throw new CliError($"-r/--reps: expected at least 1 repetition, got {r}");
            var cacheTypes = kv.Parse(parse);
            var kvRetention = retention.Parse(parse);
            var loadOptions = memory.Parse(parse);
            long probeBytes = MembwCommand.Bytes("--membw-mib", parse.GetValue(membwMib));
            int t = ThreadsOption.Apply(parse.GetValue(threads));
            string path = HubModels.Resolve(context, parse.GetValue(model)!);

            using var file = CommonArguments.Open(path);
            // Made before the model so its buffer is resident through the whole run: peak RSS then exceeds the
            // model's by exactly the buffer's size, which is taken off below.
            using var probe = parse.GetValue(noMembw) ? null : MembwCommand.CreateProbe("--membw-mib", probeBytes);
            long loadStart = Stopwatch.GetTimestamp();
            using var lm = MemoryBudgetOptions.Load(context, file, loadOptions);
            double loadSeconds = Stopwatch.GetElapsedTime(loadStart).TotalSeconds;
            KvCacheTypeOptions.CheckFits(cacheTypes, lm.Config);
            KvRetentionCliOptions.CheckFits(kvRetention, lm.Config.ContextLength);
            if ((long)d + p + n > lm.Config.ContextLength)
                throw new CliError(d == 0
                    ? $"-p {p} + -n {n} tokens exceed the model's context length {lm.Config.ContextLength}"
                    : $"-d {d} + -p {p} + -n {n} = {(long)d + p + n} tokens exceed the model's context length {lm.Config.ContextLength}");

            var result = ThroughputBenchmark.Run(lm, p, n, r, readProbe: probe, cancellation: context.Cancellation, depthTokens: d, cacheTypes: cacheTypes, retention: kvRetention);
            long peakRss = ProcessMemory.PeakResidentBytes() - (probe?.Bytes ?? 0);
            var report = new BenchReport(path, ModelSummary.Of(file, path), t, r, result,
                WeightTraffic.BytesPerDecodedToken(file), peakRss, loadSeconds, lm.KernelLayoutBytes, probe?.Bytes ?? 0, lm);
            if (parse.GetValue(json))
                WriteJson(context.Out, report);
            else
                WriteTable(context.Out, report);
            return 0;
        }));
        return command;
    }

    private sealed record BenchReport(string Path, ModelSummary Model, int Threads, int Reps, ThroughputResult Result,
        long WeightBytesPerToken, long PeakRssBytes, double LoadSeconds, long RepackedBytes, long ProbeBytes, ILanguageModel Lm)
    {
        public string Description => $"{Model.Architecture ?? "?"} {(Model.TensorTypes.Count > 0 ? Model.TensorTypes[0].Type : "?")}";

        public double DecodeGBps => Result.DecodeBytesPerSecond(WeightBytesPerToken) / Giga;

        public double? ReadGBps => Result.ReadBytesPerSecond / Giga;

        public double? DecodeFraction => Result.DecodeBandwidthFraction(WeightBytesPerToken);

        public string TypeK => KvElementTypes.Name(Result.CacheTypes.Keys);

        public string TypeV => KvElementTypes.Name(Result.CacheTypes.Values);

        /// <summary>llama-bench shows its type_k / type_v columns only when a type differs from f16.</summary>
        public bool ShowsTypes => Result.CacheTypes != KvCacheTypes.Default;
    }

    private static void WriteTable(TextWriter o, BenchReport b)
    {
        var res = b.Result;
        string size = string.Create(CultureInfo.InvariantCulture, $"{b.Model.TensorBytes / (1024.0 * 1024):F2} MiB");
        // The test column widens for a depth ("pp512 @ d4096"), as llama-bench's does.
        int test = Math.Max(7, Math.Max(res.PrefillTestName.Length, res.DecodeTestName.Length));
        string types = b.ShowsTypes ? $" {b.TypeK,6} | {b.TypeV,6} |" : "";
        o.WriteLine($"| {"model",-24} | {"size",12} | {"threads",7} |{(b.ShowsTypes ? $" {"type_k",6} | {"type_v",6} |" : "")} {"test".PadLeft(test)} | {"t/s",20} | {"GB/s",7} |");
        o.WriteLine($"| {new string('-', 24)} | {new string('-', 11)}: | {new string('-', 6)}: |{(b.ShowsTypes ? " -----: | -----: |" : "")} {new string('-', test - 1)}: | {new string('-', 19)}: | {new string('-', 6)}: |");
        o.WriteLine(Row(b.Description, size, b.Threads, types, res.PrefillTestName.PadLeft(test), res.PrefillTokensPerSecond, res.PrefillTokensPerSecondStdDev, ""));
        o.WriteLine(Row(b.Description, size, b.Threads, types, res.DecodeTestName.PadLeft(test), res.DecodeTokensPerSecond, res.DecodeTokensPerSecondStdDev,
            string.Create(CultureInfo.InvariantCulture, $"{b.DecodeGBps:F2}")));
        o.WriteLine();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median of {res.Rounds.Count} reps | load {b.LoadSeconds:F3} s | peak RSS {b.PeakRssBytes / Mega:F1} MB | weights read per decoded token {b.WeightBytesPerToken / Mega:F1} MB"
            + $" | repacked at load {b.RepackedBytes / Mega:F1} MB | KV cache {res.CacheTypes}: {res.KvBytesPerToken} bytes per token"));
        if (b.ReadGBps is { } read && b.DecodeFraction is { } fraction)
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"memory read {read:F2} GB/s (median of {res.ReadBytesPerSecondSamples!.Count} probes around the reps, {b.ProbeBytes / (1024 * 1024)} MiB, {b.Threads} threads)"
                + $" | decode {b.DecodeGBps:F2} GB/s = {fraction * 100:F1}% of it"));
        if (b.Lm.StreamCounters is { } streamed)
            o.WriteLine(WeightStreamSummary.Line(b.Lm.Residency!, streamed));
    }

    private static string Row(string model, string size, int threads, string types, string test, double tps, double sd, string gbps) =>
        string.Create(CultureInfo.InvariantCulture, $"| {model,-24} | {size,12} | {threads,7} |{types} {test} | {$"{tps:F2} ± {sd:F2}",20} | {gbps,7} |");

    private static void WriteJson(TextWriter output, BenchReport b) => JsonText.WriteLine(output, j =>
    {
        var res = b.Result;
        j.WriteString("model", b.Path);
        j.WriteString("architecture", b.Model.Architecture);
        j.WriteString("weight_type", b.Model.TensorTypes.Count > 0 ? b.Model.TensorTypes[0].Type : null);
        j.WriteNumber("model_bytes", b.Model.TensorBytes);
        j.WriteNumber("threads", b.Threads);
        j.WriteNumber("p", res.PromptTokens);
        j.WriteNumber("n", res.DecodeTokens);
        j.WriteNumber("depth", res.DepthTokens);
        j.WriteNumber("reps", b.Reps);
        j.WriteString("kv_type_k", b.TypeK);
        j.WriteString("kv_type_v", b.TypeV);
        j.WriteBoolean("kv_rotate_k", res.CacheTypes.RotateKeys);
        j.WriteNumber("kv_bytes_per_token", res.KvBytesPerToken);
        j.WriteNumber("prefill_tok_s", res.PrefillTokensPerSecond);
        j.WriteNumber("prefill_tok_s_sd", res.PrefillTokensPerSecondStdDev);
        j.WriteNumber("decode_tok_s", res.DecodeTokensPerSecond);
        j.WriteNumber("decode_tok_s_sd", res.DecodeTokensPerSecondStdDev);
        j.WriteNumber("decode_gb_s", b.DecodeGBps);
        WriteNumberOrNull(j, "read_gb_s", b.ReadGBps);
        WriteNumberOrNull(j, "decode_bw_fraction", b.DecodeFraction);
        j.WriteNumber("weight_bytes_per_token", b.WeightBytesPerToken);
        j.WriteNumber("peak_rss_mb", b.PeakRssBytes / Mega);
        j.WriteNumber("load_s", b.LoadSeconds);
        j.WriteNumber("repacked_mb", b.RepackedBytes / Mega);
        j.WriteStartArray("prefill_ms");
        foreach (var round in res.Rounds) j.WriteNumberValue(round.Prefill.TotalMilliseconds);
        j.WriteEndArray();
        j.WriteStartArray("decode_ms");
        foreach (var round in res.Rounds) j.WriteNumberValue(round.Decode.TotalMilliseconds);
        j.WriteEndArray();
        j.WriteStartArray("read_gb_s_probes");
        foreach (double read in res.ReadBytesPerSecondSamples ?? []) j.WriteNumberValue(read / Giga);
        j.WriteEndArray();
        j.WriteNumber("membw_bytes", b.ProbeBytes);
        WeightStreamSummary.WriteJson(j, b.Lm);
    });

    private static void WriteNumberOrNull(Utf8JsonWriter j, string name, double? value)
    {
        if (value is { } v)
            j.WriteNumber(name, v);
        else
            j.WriteNull(name);
    }
}
