using System.Diagnostics;
using System.Runtime.InteropServices;
using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Bench;

/// <summary>
/// Matvec GB/s (weight bytes streamed per second) and prefill GFLOP/s of the matmul kernels on random weights.
/// Enough copies of the matrix are cycled that they do not fit in the last-level cache, so decode numbers are
/// memory numbers. Not a test: timings never assert anything.
/// </summary>
internal static unsafe class KernelThroughput
{
    public static void Run(int rows, int cols, int prefillTokens, GgmlType[] types, KernelPath[] paths, int[] threadCounts)
    {
        Console.WriteLine($"kernel path best={KernelDispatch.Best} supported=[{string.Join(",", KernelDispatch.Supported)}] physical cores={CpuTopology.PhysicalCores}");
        Console.WriteLine($"matrix {rows} x {cols}, prefill n={prefillTokens}");
        Console.WriteLine($"{"type",-6} {"path",-9} {"thr",3} {"decode GB/s",12} {"decode us",10} {"prefill GFLOP/s",16} {"cpu GFLOP/s",10}");
        foreach (var type in types)
        {
            long bytes = GgmlTypeInfo.RowBytes(type, cols) * rows;
            int copies = (int)Math.Clamp(256L * 1024 * 1024 / bytes, 1, 64);
            var mats = new WeightMatrix[copies];
            var buffers = new byte[copies][];
            for (int c = 0; c < copies; c++)
            {
                buffers[c] = RandomWeights(type, bytes, seed: c);
                mats[c] = new WeightMatrix(type, Marshal.UnsafeAddrOfPinnedArrayElement(buffers[c], 0), rows, cols, $"bench{c}");
                if (Environment.GetEnvironmentVariable("FRUGAL_REPACK") != "0") // as a model load does
                    mats[c].PrepareKernelLayout();
            }
            var x = new float[prefillTokens * cols];
            var rng = new Random(1);
            for (int i = 0; i < x.Length; i++)
                x[i] = (float)(rng.NextDouble() * 2 - 1);
            var y = new float[prefillTokens * rows];
            foreach (int threads in threadCounts)
            {
                using var team = new ComputeTeam(threads);
                foreach (var path in paths)
                {
                    if (!KernelDispatch.IsSupported(path))
                        continue;
                    // Decode: cycle the copies, median of 5 sweeps.
                    var sweep = new List<double>();
                    for (int rep = 0; rep < 6; rep++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        for (int c = 0; c < copies; c++)
                            mats[c].Multiply(x.AsSpan(0, cols), y.AsSpan(0, rows), 1, team, path);
                        if (rep > 0)
                            sweep.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds / copies);
                    }
                    double decode = Median(sweep);
                    // Prefill: median wall time of 3 after a warm-up, and the least process CPU time of 8 (on a shared
                    // machine the CPU time of one thread is what the kernel costs; wall time adds the waits for a core).
                    var pre = new List<double>();
                    double cpu = double.MaxValue;
                    for (int rep = 0; rep < 9; rep++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        var c0 = Process.GetCurrentProcess().TotalProcessorTime;
                        mats[rep % copies].Multiply(x, y, prefillTokens, team, path);
                        if (rep > 0)
                            cpu = Math.Min(cpu, (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds / threads);
                        if (rep is > 0 and < 4)
                            pre.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                    }
                    double prefill = Median(pre);
                    GC.KeepAlive(buffers); // the matrices hold raw pointers only
                    Console.WriteLine($"{type,-6} {path,-9} {threads,3} {bytes / decode / 1e9,12:F1} {decode * 1e6,10:F0} {2.0 * rows * cols * prefillTokens / prefill / 1e9,16:F1} {2.0 * rows * cols * prefillTokens / cpu / 1e9,10:F1}");
                }
            }
        }
    }

    private static double Median(List<double> v)
    {
        v.Sort();
        return v[v.Count / 2];
    }

    internal static byte[] RandomWeights(GgmlType type, long bytes, int seed)
    {
        var data = GC.AllocateUninitializedArray<byte>((int)bytes, pinned: true);
        new Random(seed).NextBytes(data);
        int ts = GgmlTypeInfo.TypeSize(type);
        int[] halves = type switch
        {
            GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL or GgmlType.IQ4_XS => [0],
            GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
            GgmlType.Q2_K => [80, 82],
            GgmlType.Q3_K => [108],
            GgmlType.Q6_K => [208],
            _ => [],
        };
        if (type is GgmlType.F16 or GgmlType.BF16)
            for (long i = 0; i < bytes; i += 2) data[i + 1] = (byte)(data[i + 1] & 0x3F); // keep values finite
        for (long b = 0; b < bytes / ts; b++)
            foreach (int off in halves)
                BitConverter.TryWriteBytes(data.AsSpan((int)(b * ts + off)), (Half)0.01);
        return data;
    }
}
