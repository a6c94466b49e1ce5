using Frugal.Bench;
using Frugal.Numerics;
using Frugal.Numerics.Kernels;

// Usage: Frugal.Bench kernels [rows] [cols] [prefillTokens] [types,comma] [threads,comma] [paths,comma]
if (args.Length > 0 && args[0] == "vs-ggml")
{
    // Usage: Frugal.Bench vs-ggml [rows] [cols] [tokens] [types] [rounds] [path]
    GgmlSideBySide.Run(args.Length > 1 ? int.Parse(args[1]) : 2048, args.Length > 2 ? int.Parse(args[2]) : 8192,
        (args.Length > 4 ? args[4] : "Q4_0,Q8_0,Q4_K,Q6_K,Q5_0").Split(',').Select(Enum.Parse<GgmlType>).ToArray(),
        args.Length > 5 ? int.Parse(args[5]) : 5, args.Length > 3 ? int.Parse(args[3]) : 1,
        args.Length > 6 ? Enum.Parse<KernelPath>(args[6]) : KernelDispatch.Best);
    return 0;
}
if (args.Length == 0 || args[0] != "kernels")
{
    Console.Error.WriteLine("usage: Frugal.Bench kernels [rows=2048] [cols=8192] [n=128] [types=Q4_0,Q8_0,Q4_K] [threads=1,2] [paths=best]");
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
