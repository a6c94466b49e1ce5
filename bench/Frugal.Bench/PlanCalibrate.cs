using System.Globalization;
using Frugal.Gguf;
using Frugal.Inference.Benchmarking;
using Frugal.Models;
using Frugal.Numerics;
using Frugal.Numerics.Threading;
using Frugal.Planning;

namespace Frugal.Bench;

/// <summary>
/// <c>Frugal.Bench plan-calibrate FILE [-p 128] [-n 32] [-r 5]</c>: measures the two factors of
/// <see cref="PlanCalibration"/> that relate probes to a model, side by side in one process so that load from other
/// programs hits both alike: before each round the multiply probes (one per weight type) and the memory read probe
/// run, then one prefill/decode round of the model; the prefill efficiency is the plan's prefill time at efficiency 1
/// over the measured one, the decode bandwidth share the plan's decode time at share 1 over the measured one.
/// Medians over the rounds are printed.
/// </summary>
internal static class PlanCalibrate
{
    public static int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: Frugal.Bench plan-calibrate FILE [-p 128] [-n 32] [-r 5]");
            return 2;
        }
        int p = 128, n = 32, reps = 5;
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            int v = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i]) { case "-p": p = v; break; case "-n": n = v; break; case "-r": reps = v; break; }
        }
        using var file = GgufFile.Open(args[0]);
        var shape = ModelShape.FromGguf(file);
        using var model = ModelLoader.Load(file);
        var round = new PrefillDecodeRound(model, p, n);
        round.Measure();
        using var read = new ReadBandwidthProbe(ComputeTeam.Default);
        var probes = shape.MultipliedMatrices().Select(t => t.Type).Distinct()
            .Select(t => new MatMulRateProbe(t, 1024, shape.Config.EmbeddingLength, p)).ToList();
        var unit = new PlanCalibration { DecodeBandwidthFractionByType = new Dictionary<GgmlType, double>(), DecodeBandwidthFraction = 1, PrefillEfficiency = 1 };
        var settings = new PlanSettings { ContextLength = p + n, PromptTokens = p };
        var efficiency = new List<double>();
        var share = new List<double>();
        Console.WriteLine($"plan-calibrate {Path.GetFileName(args[0])}: -p {p} -n {n}, {ComputeTeam.Default.ThreadCount} threads, load {File.ReadAllText("/proc/loadavg").Trim()}");
        for (int r = 0; r < reps; r++)
        {
            var rates = probes.ToDictionary(q => q.Type, q => q.MeasureFlopsPerSecond(10));
            double bw = read.MeasureBytesPerSecond();
            var timing = round.Measure();
            var machine = new MachineProfile
            {
                Threads = ComputeTeam.Default.ThreadCount, MemoryReadBytesPerSecond = bw, MatMulFlopsPerSecond = rates,
                AvailableMemoryBytes = 1L << 40, RuntimeBytes = 0,
            };
            var plan = ModelPlan.Make(shape, settings, machine, unit);
            efficiency.Add(plan.Speed.PrefillSeconds / timing.Prefill.TotalSeconds);
            share.Add(plan.Speed.DecodeSeconds / (timing.Decode.TotalSeconds / n));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  round {r}: read {bw / 1e9:F1} GB/s, multiply {string.Join(" ", rates.Select(kv => $"{kv.Key} {kv.Value / 1e9:F0}"))} GFLOP/s | pp{p} {p / timing.Prefill.TotalSeconds:F1} tok/s, tg{n} {n / timing.Decode.TotalSeconds:F1} tok/s | efficiency {efficiency[^1]:F3}, decode share {share[^1]:F3}"));
        }
        foreach (var q in probes) q.Dispose();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median prefill efficiency {SampleStatistics.Median(efficiency):F3}, median decode bandwidth share {SampleStatistics.Median(share):F3} | load {File.ReadAllText("/proc/loadavg").Trim()}"));
        return 0;
    }
}
