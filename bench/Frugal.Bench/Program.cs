using System.Globalization;
using Frugal.Bench;
using Frugal.Numerics;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Kernels;

// Usage: see bench/README.md.
if (args.Length > 0 && args[0] == "side-by-side")
    return RunSideBySide(args[1..]);
if (args.Length > 0 && args[0] == "expert-traffic")
    return ExpertTraffic.Run(args[1..]);
if (args.Length > 0 && args[0] == "cluster")
    return Frugal.Bench.ClusterBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "serving")
    return RunServing(args[1..]);
if (args.Length > 0 && args[0] == "kv-quality")
    return RunKvQuality(args[1..]);
if (args.Length > 0 && args[0] == "stories")
{
    // Usage: Frugal.Bench stories N FILE — N held-out stories, one per line (the text the perplexity tests measure).
    if (args.Length != 3 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1)
    {
        Console.Error.WriteLine("usage: Frugal.Bench stories N FILE");
        return 2;
    }
    File.WriteAllText(args[2], string.Join("\n", Frugal.Evaluation.HeldOutSets.Stories(count)));
    return 0;
}
if (args.Length > 0 && args[0] == "disk-read")
    return DiskReadBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "speculative")
    return SpeculativeBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "voting-curves")
    return VotingCurves.Run(args[1..]);
if (args.Length > 0 && args[0] == "grammar-mask")
    return GrammarMaskBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "serving-parity")
    return RunServingParity(args[1..]);
if (args.Length > 0 && args[0] == "make-files")
{
    var rest = args[1..].ToList();
    bool keep = rest.Remove("--keep-f16");
    string[]? only = null;
    int at = rest.IndexOf("--only");
    if (at >= 0)
    {
        if (at + 1 >= rest.Count)
        {
            Console.Error.WriteLine("error: --only needs a comma-separated list of file names, e.g. qwen2.5-0.5b-shape-q8_0");
            return 2;
        }
        only = rest[at + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        rest.RemoveRange(at, 2);
    }
    if (only?.FirstOrDefault(name => !BenchFiles.Names.Contains(name)) is { } unknown)
    {
        Console.Error.WriteLine($"error: --only: no bench file {unknown}; expected some of {string.Join(",", BenchFiles.Names)}");
        return 2;
    }
    bool f16Only = rest.Remove("--f16-only");
    string dir = rest.Count > 0 ? rest[0] : BenchFiles.DefaultDirectory;
    if (f16Only) BenchFiles.MakeF16(dir);
    else BenchFiles.Make(dir, keep, only);
    return 0;
}
if (args.Length > 0 && args[0] == "vs-ggml")
{
    // Usage: Frugal.Bench vs-ggml [rows] [cols] [tokens] [types] [rounds] [path]
    GgmlSideBySide.Run(args.Length > 1 ? int.Parse(args[1]) : 2048, args.Length > 2 ? int.Parse(args[2]) : 8192,
        (args.Length > 4 ? args[4] : "Q4_0,Q8_0,Q4_K,Q6_K,Q5_0").Split(',').Select(Enum.Parse<GgmlType>).ToArray(),
        args.Length > 5 ? int.Parse(args[5]) : 5, args.Length > 3 ? int.Parse(args[3]) : 1,
        args.Length > 6 ? Enum.Parse<KernelPath>(args[6]) : KernelDispatch.Best);
    return 0;
}
if (args.Length > 0 && args[0] == "quantize-speed")
{
    // Usage: Frugal.Bench quantize-speed [types=Q4_K_M,Q8_0,Q4_0,Q6_K] [threads=2] [dir]
    return QuantizeSpeed.Run((args.Length > 1 ? args[1] : "Q4_K_M,Q8_0,Q4_0,Q6_K").Split(','), args.Length > 2 ? int.Parse(args[2]) : 2,
        args.Length > 3 ? args[3] : BenchFiles.DefaultDirectory);
}
if (args.Length > 0 && args[0] == "plan-calibrate")
    return PlanCalibrate.Run(args[1..]);
if (args.Length > 0 && args[0] == "plan-check")
    return PlanCheck.Run(args[1..]);
if (args.Length > 0 && args[0] == "soak")
    return SoakBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "repack-probe")
{
    RepackProbe.Run(int.Parse(args[1]), int.Parse(args[2]));
    return 0;
}
if (args.Length > 0 && args[0] == "small-n")
{
    // Usage: Frugal.Bench small-n [rows=2048] [cols=8192] [types=Q4_0,Q8_0,Q4_K,Q6_K,Q5_0] [ns=1..16] [threads=1] [path=best]
    SmallNSweep.Run(args.Length > 1 ? int.Parse(args[1]) : 2048, args.Length > 2 ? int.Parse(args[2]) : 8192,
        (args.Length > 3 ? args[3] : "Q4_0,Q8_0,Q4_K,Q6_K,Q5_0").Split(',').Select(Enum.Parse<GgmlType>).ToArray(),
        args.Length > 4 ? args[4].Split(',').Select(int.Parse).ToArray() : Enumerable.Range(1, 16).ToArray(),
        args.Length > 5 ? int.Parse(args[5]) : 1,
        args.Length > 6 ? Enum.Parse<KernelPath>(args[6]) : KernelDispatch.Best);
    return 0;
}
if (args.Length == 0 || args[0] != "kernels")
{
    Console.Error.WriteLine("usage: Frugal.Bench side-by-side FILE... [-p 128] [-n 64] [-t 2] [--rounds 3] [--seed 42] [--depth 0] [-ctk f16] [-ctv f16] [--node DIR]");
    Console.Error.WriteLine("       Frugal.Bench kv-quality MODEL TEXT [--ctx 128] [-t 2] [--types f16,q8_0,q4_0]");
    Console.Error.WriteLine("       Frugal.Bench stories N FILE");
    Console.Error.WriteLine("       Frugal.Bench grammar-mask [TOKENIZER_JSON=Qwen3 fixture] [--docs 200]");
    Console.Error.WriteLine("       Frugal.Bench serving FILE [-n 32] [--streams 8] [-t 2] [--prefix 500]");
    Console.Error.WriteLine("       Frugal.Bench serving-parity FILE [--prompt 1500] [--past 2048] [--extra 64] [--lanes 2] [-t 2] [--flash-attn auto|on|off] [--requests 8] [-n 32] [--seed 42] [--dump CSV] [--skip-logits] [--alone]");
    Console.Error.WriteLine("       Frugal.Bench soak [MODEL=built-in] [--clients 32] [--minutes 10] [--parallel 8] [--ctx 2048] [--max-tokens 48] [-t 2]");
    Console.Error.WriteLine("       Frugal.Bench make-files [DIR=/tmp/frugal-bench] [--keep-f16 | --f16-only] [--only NAME,...]");
    Console.Error.WriteLine("       Frugal.Bench kernels [rows=2048] [cols=8192] [n=128] [types=Q4_0,Q8_0,Q4_K] [threads=1,2] [paths=best]");
    Console.Error.WriteLine("       Frugal.Bench small-n [rows=2048] [cols=8192] [types] [ns=1,2,..,16] [threads=1] [path=best]");
    Console.Error.WriteLine("       Frugal.Bench vs-ggml [rows] [cols] [tokens] [types] [rounds] [path]");
    return 2;
}
int rows = args.Length > 1 ? int.Parse(args[1]) : 2048;
int cols = args.Length > 2 ? int.Parse(args[2]) : 8192;
int n = args.Length > 3 ? int.Parse(args[3]) : 128;
var types = (args.Length > 4 ? args[4] : "Q4_0,Q8_0,Q4_K").Split(',').Select(Enum.Parse<GgmlType>).ToArray();
var threads = (args.Length > 5 ? args[5] : "1,2").Split(',').Select(int.Parse).ToArray();
var paths = args.Length > 6 && args[6] != "best"
    ? (args[6] == "all" ? KernelDispatch.Supported.Reverse().ToArray() : args[6].Split(',').Select(Enum.Parse<KernelPath>).ToArray())
    : [KernelDispatch.Best];
KernelThroughput.Run(rows, cols, n, types, paths, threads);
return 0;

static int RunSideBySide(string[] args)
{
    var files = new List<string>();
    int p = 128, n = 64, t = 2, rounds = 3, seed = 42, depth = 0;
    string? node = null;
    KvElementType typeK = KvElementType.F16, typeV = KvElementType.F16;
    for (int i = 0; i < args.Length; i++)
    {
        string a = args[i];
        if (a is "--cache-type-k" or "-ctk" or "--cache-type-v" or "-ctv")
        {
            try
            {
                var type = KvElementTypes.Parse(i + 1 < args.Length ? args[++i] : "");
                if (a is "--cache-type-k" or "-ctk") typeK = type; else typeV = type;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {a}: {e.Message.Replace(" (Parameter 'name')", "", StringComparison.Ordinal)}");
                return 2;
            }
        }
        else if (a is "--depth" or "-d")
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out depth))
            {
                Console.Error.WriteLine($"error: {a} needs a token count of 0 or more");
                return 2;
            }
            i++;
        }
        else if (a == "--node")
        {
            if (i + 1 >= args.Length)
            {
                Console.Error.WriteLine("error: --node needs the directory where npm install ran for bench/node-llama-cpp/package.json");
                return 2;
            }
            node = Path.GetFullPath(args[++i]);
            if (NodeLlamaCpp.Problem(node) is { } problem)
            {
                Console.Error.WriteLine($"error: {problem}");
                return 2;
            }
        }
        else if (a is "-p" or "-n" or "-t" or "--rounds" or "--seed")
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1)
            {
                Console.Error.WriteLine($"error: {a} needs a positive integer");
                return 2;
            }
            i++;
            switch (a)
            {
                case "-p": p = v; break;
                case "-n": n = v; break;
                case "-t": t = v; break;
                case "--rounds": rounds = v; break;
                default: seed = v; break;
            }
        }
        else if (a.StartsWith('-'))
        {
            Console.Error.WriteLine($"error: unknown option {a}");
            return 2;
        }
        else if (!File.Exists(a))
        {
            Console.Error.WriteLine($"error: no such file: {a}");
            return 2;
        }
        else files.Add(a);
    }
    if (files.Count == 0)
    {
        Console.Error.WriteLine("error: give at least one GGUF file (make them with: make-files)");
        return 2;
    }
    SideBySide.Run(new SideBySide.Options(files, p, n, t, rounds, seed, depth, node, new KvCacheTypes(typeK, typeV)));
    return 0;
}

static int RunKvQuality(string[] args)
{
    var positional = new List<string>();
    int ctx = 128, t = 2;
    var types = new List<KvElementType> { KvElementType.F16, KvElementType.Q8_0, KvElementType.Q4_0 };
    for (int i = 0; i < args.Length; i++)
    {
        string a = args[i];
        if (a is "--ctx" or "-c" or "-t")
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1)
            {
                Console.Error.WriteLine($"error: {a} needs a positive integer");
                return 2;
            }
            i++;
            if (a == "-t") t = v; else ctx = v;
        }
        else if (a == "--types" && i + 1 < args.Length)
        {
            try
            {
                types = args[++i].Split(',').Select(KvElementTypes.Parse).ToList();
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: --types: {e.Message.Replace(" (Parameter 'name')", "", StringComparison.Ordinal)}");
                return 2;
            }
        }
        else if (a.StartsWith('-'))
        {
            Console.Error.WriteLine($"error: unknown option {a}");
            return 2;
        }
        else if (!File.Exists(a))
        {
            Console.Error.WriteLine($"error: no such file: {a}");
            return 2;
        }
        else positional.Add(a);
    }
    if (positional.Count != 2)
    {
        Console.Error.WriteLine("usage: Frugal.Bench kv-quality MODEL TEXT [--ctx 128] [-t 2] [--types f16,q8_0,q4_0,kivi4,kivi2] (make a TEXT with: stories 300 FILE)");
        return 2;
    }
    KvQuality.Run(new KvQuality.Options(positional[0], positional[1], ctx, t, types));
    return 0;
}

static int RunServing(string[] args)
{
    string? file = null;
    int n = 32, streams = 8, t = 2, prefix = 500;
    for (int i = 0; i < args.Length; i++)
    {
        string a = args[i];
        if (a is "-n" or "--streams" or "-t" or "--prefix")
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1)
            {
                Console.Error.WriteLine($"error: {a} needs a positive integer");
                return 2;
            }
            i++;
            switch (a)
            {
                case "-n": n = v; break;
                case "--streams": streams = v; break;
                case "-t": t = v; break;
                default: prefix = v; break;
            }
        }
        else if (a.StartsWith('-'))
        {
            Console.Error.WriteLine($"error: unknown option {a}");
            return 2;
        }
        else if (file is not null)
        {
            Console.Error.WriteLine($"error: serving takes one GGUF file, got {file} and {a}");
            return 2;
        }
        else if (!File.Exists(a))
        {
            Console.Error.WriteLine($"error: no such file: {a}");
            return 2;
        }
        else file = a;
    }
    if (file is null)
    {
        Console.Error.WriteLine("error: give a GGUF file (make one with: make-files)");
        return 2;
    }
    ServingBench.Run(new ServingBench.Options(file, n, streams, t, prefix));
    return 0;
}

static int RunServingParity(string[] args)
{
    string? file = null, dump = null;
    bool? flash = null;
    bool skipLogits = false, alone = false;
    var ints = new Dictionary<string, int> { ["--prompt"] = 1500, ["--past"] = 2048, ["--extra"] = 64, ["--lanes"] = 2, ["-t"] = 2, ["--requests"] = 8, ["-n"] = 32, ["--seed"] = 42 };
    for (int i = 0; i < args.Length; i++)
    {
        string a = args[i];
        if (ints.ContainsKey(a))
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < (a == "--requests" ? 0 : 1))
            {
                Console.Error.WriteLine($"error: {a} needs a positive integer{(a == "--requests" ? " (or 0: skip the greedy check)" : "")}");
                return 2;
            }
            ints[a] = v;
            i++;
        }
        else if (a == "--flash-attn" && i + 1 < args.Length && args[i + 1] is "auto" or "on" or "off")
            flash = args[++i] switch { "on" => true, "off" => false, _ => null };
        else if (a == "--dump" && i + 1 < args.Length)
            dump = args[++i];
        else if (a == "--skip-logits")
            skipLogits = true;
        else if (a == "--alone")
            alone = true;
        else if (a.StartsWith('-'))
        {
            Console.Error.WriteLine($"error: unknown option {a} (or a missing value)");
            return 2;
        }
        else if (file is not null || !File.Exists(a))
        {
            Console.Error.WriteLine(file is null ? $"error: no such file: {a}" : $"error: serving-parity takes one GGUF file, got {file} and {a}");
            return 2;
        }
        else file = a;
    }
    if (file is null)
    {
        Console.Error.WriteLine("error: give a GGUF file (make the F16 ones with: make-files --f16-only)");
        return 2;
    }
    if (ints["--prompt"] > ints["--past"] || ints["--prompt"] < 16)
    {
        Console.Error.WriteLine($"error: --prompt ({ints["--prompt"]}) must be within [16, --past ({ints["--past"]})]");
        return 2;
    }
    ServingParity.Run(new ServingParity.Options(file, ints["--prompt"], ints["--past"], ints["--extra"], ints["--lanes"], ints["-t"], flash,
        ints["--requests"], ints["-n"], ints["--seed"], dump, skipLogits, alone));
    return 0;
}
