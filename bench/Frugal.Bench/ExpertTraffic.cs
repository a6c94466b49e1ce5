using System.Diagnostics;
using Frugal.Gguf;
using Frugal.Inference.Benchmarking;
using Frugal.Models;
using Frugal.Numerics.Threading;

namespace Frugal.Bench;

/// <summary>
/// <c>expert-traffic FILE [-n 32] [-t 2]</c>: on a mixture-of-experts file, decodes n tokens after a short prompt and
/// prints the expert bytes the forward counted per decoded token (each chosen expert's gate, up and down slices, once
/// per step) beside what k experts per layer should read, the dense bytes (attention, routers, output), their sum
/// against <see cref="WeightTraffic.BytesPerDecodedToken"/>, and the decode tokens/s with the load average.
/// </summary>
internal static class ExpertTraffic
{
    public static int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: Frugal.Bench expert-traffic FILE [-n 32] [-t 2]");
            return 2;
        }
        int decode = 32, threads = 2;
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "-n") decode = int.Parse(args[i + 1]);
            else if (args[i] == "-t") threads = int.Parse(args[i + 1]);
        }
        ComputeTeam.ConfigureDefault(threads);
        using var file = GgufFile.Open(args[0]);
        using var lm = ModelLoader.Load(file);
        if (lm is not DecoderTransformer model || model.ExpertLayers.Count == 0)
        {
            Console.Error.WriteLine($"error: {args[0]} has no mixture-of-experts layers");
            return 1;
        }
        var c = model.Config;
        var moe = model.ExpertLayers;
        var rng = new Random(7);
        var prompt = Enumerable.Range(0, 16).Select(_ => rng.Next(c.VocabSize)).ToArray();
        var cache = model.CreateCache(prompt.Length + decode + 1);
        var logits = new float[c.VocabSize];
        model.Forward(prompt, cache, logits);

        long before = moe.Sum(m => m.ExpertBytesRead);
        long t0 = Stopwatch.GetTimestamp();
        for (int t = 0; t < decode; t++)
            model.Forward([rng.Next(c.VocabSize)], cache, logits);
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        long counted = (moe.Sum(m => m.ExpertBytesRead) - before) / decode;

        long expected = moe.Sum(m => m.Used * m.ExpertBytes);
        long allExperts = moe.Sum(m => m.Count * m.ExpertBytes);
        long dense = DenseBytes(file);
        long traffic = WeightTraffic.BytesPerDecodedToken(file);
        Console.WriteLine($"{Path.GetFileName(args[0])}: {moe.Count} MoE layers, {moe[0].Count} experts, {moe[0].Used} used, {threads} threads, load average {LoadAverage()}");
        Console.WriteLine($"  expert bytes per decoded token, counted: {counted:N0}; k x layers x expert bytes: {expected:N0} ({(counted == expected ? "equal" : "DIFFERENT")}); all experts: {allExperts:N0}");
        Console.WriteLine($"  dense bytes per token (attention, routers, output): {dense:N0}; counted experts + dense = {counted + dense:N0}; WeightTraffic.BytesPerDecodedToken = {traffic:N0} ({(counted + dense == traffic ? "equal" : "DIFFERENT")})");
        Console.WriteLine($"  decode: {decode / seconds:F1} tok/s over {decode} tokens ({(counted + dense) * decode / seconds / 1e9:F2} GB/s of weights)");
        return counted == expected && counted + dense == traffic ? 0 : 1;
    }

    /// <summary>Bytes of every matrix but the expert tensors and the (gathered, untied) token embedding.</summary>
    private static long DenseBytes(GgufFile file)
    {
        bool tied = file.FindTensor(WeightTraffic.Output) is null;
        return file.Tensors.Where(t => t.Dimensions.Length >= 2 && !t.Name.Contains("_exps.", StringComparison.Ordinal)
                                       && (tied || t.Name != WeightTraffic.TokenEmbedding)).Sum(t => t.ByteSize);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
