using System.Globalization;
using System.Text.Json;
using Frugal.Gguf;
using Frugal.Inference.Benchmarking;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;
using Frugal.Tests.Inference;

namespace Frugal.Tests.Cli;

/// <summary><c>frugal bench</c> and the measuring pieces behind it. No timing is asserted: only shapes and sanity.</summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>The tiny Llama 3 spec (width 128, 2 layers, 4 + 2 heads of 32, FFN 256, vocab 512, context 512) in Q8_0.</summary>
    private string WriteTinyModel(bool tied = false)
    {
        string path = Path.Combine(_cli.Directory, tied ? "tiny-tied.gguf" : "tiny.gguf");
        SyntheticModelWriter.Write(SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, GgmlType.Q8_0, tied), path);
        return path;
    }

    // Weight elements a decode step reads in the tiny spec: per layer q 128x128, k and v 64x128, o 128x128,
    // gate/up/down 3 x 256x128 = 147456; two layers; plus the 512x128 output. Q8_0 is 34 bytes per 32 values.
    private const long TinyMatrixElements = 2 * 147456;
    private const long TinyOutputElements = 512 * 128;
    private static long Q8Bytes(long elements) => elements / 32 * 34;

    // Repacked at load on AVX-512 with VNNI: every matrix of the tiny spec, 576 bytes per 16 rows x 32 columns (Q8_0x16).
    private static double RepackedMb => KernelDispatch.Best == KernelPath.Avx512 && Q8_0x16.IsSupported
        ? (TinyMatrixElements + TinyOutputElements) / 512 * 576 / 1e6 : 0;

    [Fact]
    public void Bench_json_reports_positive_finite_figures_for_the_requested_counts()
    {
        string path = WriteTinyModel();
        string threads = ComputeTeam.Default.ThreadCount.ToString(CultureInfo.InvariantCulture); // keep the shared team
        var o = _cli.Run("bench", path, "-p", "16", "-n", "8", "-r", "2", "-t", threads, "--membw-mib", "8", "--json");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        using var doc = JsonDocument.Parse(o.Out);
        var j = doc.RootElement;
        Assert.Equal(path, j.GetProperty("model").GetString());
        Assert.Equal("llama", j.GetProperty("architecture").GetString());
        Assert.Equal("Q8_0", j.GetProperty("weight_type").GetString());
        Assert.Equal(ComputeTeam.Default.ThreadCount, j.GetProperty("threads").GetInt32());
        Assert.Equal(16, j.GetProperty("p").GetInt32());
        Assert.Equal(8, j.GetProperty("n").GetInt32());
        Assert.Equal(0, j.GetProperty("depth").GetInt32());
        Assert.Equal(2, j.GetProperty("reps").GetInt32());
        foreach (string key in new[] { "prefill_tok_s", "decode_tok_s", "decode_gb_s", "peak_rss_mb", "load_s" })
        {
            double v = j.GetProperty(key).GetDouble();
            Assert.True(double.IsFinite(v) && v > 0, $"{key} = {v}");
        }
        Assert.Equal(Q8Bytes(TinyMatrixElements + TinyOutputElements), j.GetProperty("weight_bytes_per_token").GetInt64());
        Assert.Equal(RepackedMb, j.GetProperty("repacked_mb").GetDouble(), 1e-9);
        double expectedGBps = j.GetProperty("decode_tok_s").GetDouble() * j.GetProperty("weight_bytes_per_token").GetInt64() / 1e9;
        Assert.Equal(expectedGBps, j.GetProperty("decode_gb_s").GetDouble(), expectedGBps * 1e-9);
        // A test host holds the runtime and this model at least: tens of MB, far below a terabyte.
        Assert.InRange(j.GetProperty("peak_rss_mb").GetDouble(), 10, 1e6);
        var prefill = j.GetProperty("prefill_ms").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var decode = j.GetProperty("decode_ms").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(2, prefill.Length);
        Assert.Equal(2, decode.Length);
        Assert.All(prefill.Concat(decode), ms => Assert.True(double.IsFinite(ms) && ms > 0));
        // The median of two rounds is their mean: tok/s must follow from the per-round times.
        Assert.Equal(16 / (prefill.Average() / 1000), j.GetProperty("prefill_tok_s").GetDouble(), 1e-6 * j.GetProperty("prefill_tok_s").GetDouble());
        Assert.Equal(8 / (decode.Average() / 1000), j.GetProperty("decode_tok_s").GetDouble(), 1e-6 * j.GetProperty("decode_tok_s").GetDouble());
        // Read bandwidth: measured before each of the 2 rounds and after the last, reported as the median of the 3.
        Assert.Equal(8L << 20, j.GetProperty("membw_bytes").GetInt64());
        var reads = j.GetProperty("read_gb_s_probes").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(3, reads.Length);
        Assert.All(reads, gbps => Assert.True(double.IsFinite(gbps) && gbps > 0, $"probe {gbps} GB/s"));
        double read = j.GetProperty("read_gb_s").GetDouble();
        Assert.Equal(SampleStatistics.Median(reads), read, read * 1e-12);
        Assert.Equal(j.GetProperty("decode_gb_s").GetDouble() / read, j.GetProperty("decode_bw_fraction").GetDouble(), 1e-9);
    }

    [Fact]
    public void Bench_without_the_probe_reports_null_read_bandwidth_and_keeps_the_rest()
    {
        string path = WriteTinyModel();
        string threads = ComputeTeam.Default.ThreadCount.ToString(CultureInfo.InvariantCulture);
        var o = _cli.Run("bench", path, "-p", "8", "-n", "4", "-r", "1", "-t", threads, "--no-membw", "--json");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        using var doc = JsonDocument.Parse(o.Out);
        var j = doc.RootElement;
        Assert.Equal(JsonValueKind.Null, j.GetProperty("read_gb_s").ValueKind);
        Assert.Equal(JsonValueKind.Null, j.GetProperty("decode_bw_fraction").ValueKind);
        Assert.Equal(0, j.GetProperty("read_gb_s_probes").GetArrayLength());
        Assert.Equal(0, j.GetProperty("membw_bytes").GetInt64());
        Assert.True(j.GetProperty("decode_gb_s").GetDouble() > 0);
        var text = _cli.Run("bench", path, "-p", "8", "-n", "4", "-r", "1", "-t", threads, "--no-membw");
        Assert.DoesNotContain("memory read", text.Out);
    }

    [Fact]
    public void Bench_text_prints_a_pp_and_a_tg_row()
    {
        string path = WriteTinyModel();
        var o = _cli.Run("bench", path, "-p", "8", "-n", "4", "-r", "1", "--membw-mib", "4");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        var lines = o.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.StartsWith("| model", lines[0]);
        Assert.Matches(@"^\| llama Q8_0 +\| +[0-9.]+ MiB \| +\d+ \| +pp8 \| +[0-9.]+ ± [0-9.]+ \| +\|$", lines[2]);
        Assert.Matches(@"^\| llama Q8_0 +\| +[0-9.]+ MiB \| +\d+ \| +tg4 \| +[0-9.]+ ± [0-9.]+ \| +[0-9.]+ \|$", lines[3]);
        Assert.Matches(@"^median of 1 reps \| load [0-9.]+ s \| peak RSS [0-9.]+ MB \| weights read per decoded token 0\.4 MB \| repacked at load "
            + RepackedMb.ToString("F1", CultureInfo.InvariantCulture).Replace(".", @"\.") + @" MB \| KV cache K f16, V f16: 512 bytes per token$", lines[5]);
        Assert.Matches(@"^memory read [0-9.]+ GB/s \(median of 2 probes around the reps, 4 MiB, \d+ threads\) \| decode [0-9.]+ GB/s = [0-9.]+% of it$", lines[6]);
    }

    [Fact]
    public void Bench_at_depth_reports_the_depth_in_json_and_in_the_test_names()
    {
        string path = WriteTinyModel();
        string threads = ComputeTeam.Default.ThreadCount.ToString(CultureInfo.InvariantCulture);
        var o = _cli.Run("bench", path, "-p", "16", "-n", "8", "-d", "100", "-r", "1", "-t", threads, "--no-membw", "--json");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        using var doc = JsonDocument.Parse(o.Out);
        var j = doc.RootElement;
        Assert.Equal((100, 16, 8), (j.GetProperty("depth").GetInt32(), j.GetProperty("p").GetInt32(), j.GetProperty("n").GetInt32()));
        foreach (string key in new[] { "prefill_tok_s", "decode_tok_s", "decode_gb_s" })
            Assert.True(double.IsFinite(j.GetProperty(key).GetDouble()) && j.GetProperty(key).GetDouble() > 0, key);

        var text = _cli.Run("bench", path, "-p", "8", "-n", "4", "--depth", "40", "-r", "1", "-t", threads, "--no-membw");
        Assert.Equal((0, ""), (text.ExitCode, text.Error));
        var lines = text.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Matches(@"^\| model +\| +size \| threads \| +test \|", lines[0]);
        Assert.Matches(@"^\| llama Q8_0 +\| +[0-9.]+ MiB \| +\d+ \| pp8 @ d40 \| +[0-9.]+ ± [0-9.]+ \| +\|$", lines[2]);
        Assert.Matches(@"^\| llama Q8_0 +\| +[0-9.]+ MiB \| +\d+ \| tg4 @ d40 \| +[0-9.]+ ± [0-9.]+ \| +[0-9.]+ \|$", lines[3]);
        Assert.Equal(lines[0].Length, lines[2].Length); // the test column widened with its header
    }

    [Fact]
    public void Bench_evaluates_the_depth_in_chunks_of_512_before_every_round()
    {
        string path = WriteTinyModel();
        var fake = new FakeModel((_, _) => 0, vocabSize: 300, contextLength: 2048);
        var o = _cli.Run(_ => fake, null, "bench", path, "-p", "16", "-n", "3", "-d", "1100", "-r", "2", "--no-membw", "--json");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        int[] round = [512, 512, 76, 16, 1, 1, 1];
        Assert.Equal([.. round, .. round, .. round], fake.ForwardLengths); // warm-up, then two timed rounds
        using var doc = JsonDocument.Parse(o.Out);
        Assert.Equal(1100, doc.RootElement.GetProperty("depth").GetInt32());
    }

    [Theory]
    [InlineData("-p", "0", "-p/--n-prompt: expected at least 1 token, got 0")]
    [InlineData("-n", "0", "-n/--n-gen: expected at least 1 token, got 0")]
    [InlineData("-r", "0", "-r/--reps: expected at least 1 repetition, got 0")]
    [InlineData("-t", "0", "-t/--threads: expected at least 1 thread, got 0")]
    [InlineData("-p", "500", "-p 500 + -n 64 tokens exceed the model's context length 512")]
    [InlineData("-d", "400", "-d 400 + -p 128 + -n 64 = 592 tokens exceed the model's context length 512")]
    [InlineData("--depth", "-1", "-d/--depth: expected 0 or more tokens, got -1")]
    [InlineData("--membw-mib", "0", "--membw-mib: expected at least 1 MiB, got 0")]
    public void Bench_rejects_bad_counts_naming_the_option(string option, string value, string message)
    {
        string path = WriteTinyModel();
        // A small probe buffer unless that is the option under test: the context check comes after the probe is made.
        string[] probe = option == "--membw-mib" ? [] : ["--membw-mib", "1"];
        var o = _cli.Run(["bench", path, .. probe, option, value]);
        Assert.Equal(1, o.ExitCode);
        Assert.Equal($"error: {message}", o.Error.TrimEnd());
        Assert.Equal("", o.Out);
    }

    [Fact]
    public void Run_takes_threads_and_rejects_zero()
    {
        string path = _cli.WriteModel("m.gguf");
        string threads = ComputeTeam.Default.ThreadCount.ToString(CultureInfo.InvariantCulture);
        var ok = _cli.RunFake("hi", 64, "run", path, "-p", "x", "-t", threads, "--temp", "0");
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal("hi", ok.Out.TrimEnd());
        var bad = _cli.RunFake("hi", 64, "run", path, "-p", "x", "-t", "0");
        Assert.Equal((1, "error: -t/--threads: expected at least 1 thread, got 0"), (bad.ExitCode, bad.Error.TrimEnd()));
    }

    [Fact]
    public void Bench_of_a_missing_file_names_it()
    {
        string path = Path.Combine(_cli.Directory, "absent.gguf");
        var o = _cli.Run("bench", path);
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("absent.gguf", o.Error);
    }

    [Fact]
    public void Weight_traffic_counts_the_embedding_only_when_it_is_the_output()
    {
        using (var untied = GgufFile.Open(WriteTinyModel(tied: false)))
            Assert.Equal(Q8Bytes(TinyMatrixElements + TinyOutputElements), WeightTraffic.BytesPerDecodedToken(untied));
        using (var tied = GgufFile.Open(WriteTinyModel(tied: true)))
            Assert.Equal(Q8Bytes(TinyMatrixElements + TinyOutputElements), WeightTraffic.BytesPerDecodedToken(tied));
        using (var untied = GgufFile.Open(WriteTinyModel(tied: false)))
        {
            // The untied file holds both a token_embd and an output matrix of the same size; only one is read.
            long all2d = untied.Tensors.Where(t => t.Dimensions.Length >= 2).Sum(t => t.ByteSize);
            Assert.Equal(all2d - Q8Bytes(TinyOutputElements), WeightTraffic.BytesPerDecodedToken(untied));
        }
    }

    [Fact]
    public void Prefill_decode_round_runs_the_prompt_in_one_call_then_one_token_per_call()
    {
        var model = new FakeModel((_, _) => 0, vocabSize: 300, contextLength: 32);
        var round = new PrefillDecodeRound(model, promptTokens: 12, decodeTokens: 5, seed: 7);
        var first = round.Measure();
        round.Measure(); // the cache is emptied before each round, so a second round fits the same capacity
        Assert.Equal([12, 1, 1, 1, 1, 1, 12, 1, 1, 1, 1, 1], model.ForwardLengths);
        Assert.True(first.Prefill > TimeSpan.Zero && first.Decode > TimeSpan.Zero);
        Assert.Equal(8f, round.LastLogits[0]); // the fake puts 8 on the token it names, here always 0
    }

    [Fact]
    public void Prefill_decode_round_at_depth_fills_the_cache_in_chunks_then_continues_the_sequence()
    {
        var model = new CacheRecordingModel(new FakeModel((_, _) => 0, vocabSize: 300, contextLength: 2048));
        var round = new PrefillDecodeRound(model, promptTokens: 12, decodeTokens: 5, seed: 7, depthTokens: 1100);
        Assert.Equal(1100 + 12 + 5, model.Cache!.Capacity);
        Assert.Equal(0, round.CachedPositions);
        round.Measure();
        Assert.Equal(1117, round.CachedPositions);
        round.Measure(); // emptied and refilled: the same positions again, not twice as many
        Assert.Equal(1117, round.CachedPositions);
        int[] one = [512, 512, 76, 12, 1, 1, 1, 1, 1];
        Assert.Equal([.. one, .. one], model.Inner.ForwardLengths);
        // The cache holds the depth ids, then the prompt, then the decode inputs, in that order.
        Assert.Equal([.. round.Depth.ToArray(), .. round.Prompt.ToArray(), .. round.DecodeInputs.ToArray()], model.Cache.Tokens);
        Assert.All(round.Depth.ToArray(), id => Assert.InRange(id, 0, 299));
        // The seed fixes the prompt and decode ids whatever the depth, so depths compare like with like.
        var shallow = new PrefillDecodeRound(new FakeModel((_, _) => 0, vocabSize: 300, contextLength: 2048), 12, 5, seed: 7);
        Assert.Equal(shallow.Prompt.ToArray(), round.Prompt.ToArray());
        Assert.Equal(shallow.DecodeInputs.ToArray(), round.DecodeInputs.ToArray());
        Assert.Equal(0, shallow.DepthTokens);
        Assert.Equal(1100, round.DepthTokens);
        Assert.NotEqual(round.Depth.ToArray(), new PrefillDecodeRound(model.Inner, 12, 5, seed: 8, depthTokens: 1100).Depth.ToArray());
    }

    [Fact]
    public void Prefill_decode_round_rejects_a_depth_beyond_the_context_or_below_zero()
    {
        var model = new FakeModel((_, _) => 0, contextLength: 32);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PrefillDecodeRound(model, 10, 3, depthTokens: 20));
        Assert.Contains("depth (20) + prompt (10) + decode (3) tokens exceed the model's context length 32", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrefillDecodeRound(model, 10, 3, depthTokens: -1));
        var full = new PrefillDecodeRound(model, 10, 3, depthTokens: 19); // exactly the context is fine
        full.Measure();
        Assert.Equal(32, full.CachedPositions);
    }

    [Fact]
    public void Throughput_benchmark_carries_the_depth_into_the_result_and_test_names()
    {
        var model = new FakeModel((_, _) => 0, contextLength: 64);
        var r = ThroughputBenchmark.Run(model, promptTokens: 4, decodeTokens: 2, repetitions: 1, depthTokens: 30);
        Assert.Equal(30, r.DepthTokens);
        Assert.Equal(("pp4 @ d30", "tg2 @ d30"), (r.PrefillTestName, r.DecodeTestName));
        Assert.Equal([30, 4, 1, 1, 30, 4, 1, 1], model.ForwardLengths);
        var flat = ThroughputBenchmark.Run(model, 4, 2, 1);
        Assert.Equal((0, "pp4", "tg2"), (flat.DepthTokens, flat.PrefillTestName, flat.DecodeTestName));
    }

    /// <summary>Wraps a fake model to keep the cache it hands out, so a test can look inside it.</summary>
    private sealed class CacheRecordingModel(FakeModel inner) : Frugal.Models.ILanguageModel
    {
        public FakeModel Inner => inner;
        public FakeCache? Cache { get; private set; }
        public Frugal.Models.ModelConfig Config => inner.Config;
        public Frugal.Models.KvCache CreateCache(int maxTokens, Frugal.Numerics.Attention.KvCacheTypes types = default) => Cache = (FakeCache)inner.CreateCache(maxTokens, types);
        public void Forward(ReadOnlySpan<int> tokens, Frugal.Models.KvCache cache, Span<float> logits, bool allLogits = false) =>
            inner.Forward(tokens, cache, logits, allLogits);
        public void Dispose() { }
    }

    [Fact]
    public void Prefill_decode_round_rejects_counts_beyond_the_context()
    {
        var model = new FakeModel((_, _) => 0, contextLength: 32);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PrefillDecodeRound(model, 30, 3));
        Assert.Contains("prompt (30) + decode (3) tokens exceed the model's context length 32", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrefillDecodeRound(model, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrefillDecodeRound(model, 3, 0));
    }

    [Fact]
    public void Throughput_result_uses_medians_of_the_rounds()
    {
        var rounds = new[]
        {
            new RoundTiming(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(2)),
            new RoundTiming(TimeSpan.FromSeconds(0.25), TimeSpan.FromSeconds(8)),
            new RoundTiming(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4)),
        };
        var r = new ThroughputResult(100, 64, rounds);
        Assert.Equal(200, r.PrefillTokensPerSecond, 9); // median prefill 0.5 s
        Assert.Equal(16, r.DecodeTokensPerSecond, 9);   // median decode 4 s
        Assert.Equal(16 * 1e6, r.DecodeBytesPerSecond(1_000_000), 3);
        // per-round prefill tok/s 200, 400, 100: mean 233.33, sample sd sqrt((33.33^2 + 166.67^2 + 133.33^2) / 2) = sqrt(23333.3) = 152.75252
        Assert.Equal(152.75252, r.PrefillTokensPerSecondStdDev, 4);
        Assert.Equal(2.5, SampleStatistics.Median([4, 1, 2, 3]));
        Assert.Equal(0, SampleStatistics.StdDev([5]));
        Assert.Throws<ArgumentException>(() => SampleStatistics.Median([]));
    }

    [Fact]
    public void Throughput_result_compares_decode_with_the_median_read_bandwidth()
    {
        var rounds = new[] { new RoundTiming(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)) };
        var r = new ThroughputResult(10, 64, rounds, [40e9, 80e9, 42e9, 41e9]);
        Assert.Equal(41.5e9, r.ReadBytesPerSecond!.Value, 3); // median of 40, 41, 42, 80
        // 32 tok/s x 1e9 bytes = 32 GB/s of 41.5 GB/s.
        Assert.Equal(32 / 41.5, r.DecodeBandwidthFraction(1_000_000_000)!.Value, 12);
        var unmeasured = new ThroughputResult(10, 64, rounds);
        Assert.Null(unmeasured.ReadBytesPerSecond);
        Assert.Null(unmeasured.DecodeBandwidthFraction(1_000_000_000));
        Assert.Null(new ThroughputResult(10, 64, rounds, []).ReadBytesPerSecond);
    }

    [Fact]
    public void Read_probe_returns_a_positive_finite_bandwidth_on_a_small_buffer()
    {
        using var team = new ComputeTeam(2);
        using var probe = new ReadBandwidthProbe(team, bytes: 1 << 20, passes: 2);
        Assert.Equal((1L << 20, 2, 2), (probe.Bytes, probe.Passes, probe.Threads));
        for (int i = 0; i < 3; i++)
        {
            double bps = probe.MeasureBytesPerSecond();
            Assert.True(double.IsFinite(bps) && bps > 0, $"{bps} bytes/s");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReadBandwidthProbe(team, bytes: 1 << 20, passes: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReadBandwidthProbe(team, bytes: 100));
    }

    [Fact]
    public void Throughput_benchmark_probes_before_every_round_and_after_the_last()
    {
        var model = new FakeModel((_, _) => 0, contextLength: 32);
        using var team = new ComputeTeam(1);
        using var probe = new ReadBandwidthProbe(team, bytes: 1 << 16, passes: 1);
        var r = ThroughputBenchmark.Run(model, promptTokens: 4, decodeTokens: 2, repetitions: 3, readProbe: probe);
        Assert.Equal(3, r.Rounds.Count);
        Assert.Equal(4, r.ReadBytesPerSecondSamples!.Count);
        Assert.All(r.ReadBytesPerSecondSamples, bps => Assert.True(double.IsFinite(bps) && bps > 0));
        Assert.Empty(ThroughputBenchmark.Run(model, 4, 2, 2).ReadBytesPerSecondSamples!);
    }

    [Fact]
    public void Peak_rss_is_read_from_the_vmhwm_line()
    {
        const string status = "Name:\tdotnet\nVmPeak:\t 9999 kB\nVmHWM:\t  123456 kB\nVmRSS:\t  100000 kB\n";
        Assert.Equal(123456, ProcessMemory.ParseStatusKib(status, "VmHWM"));
        Assert.Equal(100000, ProcessMemory.ParseStatusKib(status, "VmRSS"));
        Assert.Null(ProcessMemory.ParseStatusKib(status, "VmSwap"));
        Assert.Null(ProcessMemory.ParseStatusKib("VmHWM:\tlots kB\n", "VmHWM"));
        Assert.True(ProcessMemory.PeakResidentBytes() > 1 << 20);
    }
}
