using System.Diagnostics;
using System.Runtime.InteropServices;
using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Bench;

/// <summary>
/// Cost of one matmul as the number of activation rows n grows (batched decode: n sequences, one token each).
/// Weights are cycled through enough copies to miss the last-level cache, as in a real decode step; each n is
/// warmed up for a while first so the JIT has tiered the kernel up. A memory-bound kernel costs about the same
/// at n = 8 as at n = 1: the "x n=1" column says how close it is.
/// </summary>
internal static class SmallNSweep
{
    public static void Run(int rows, int cols, GgmlType[] types, int[] ns, int threads, KernelPath path)
    {
        Console.WriteLine($"small-n sweep: matrix {rows} x {cols}, path {path}, threads {threads}");
        Console.WriteLine($"{"type",-6} {"n",3} {"us/call",9} {"GFLOP/s",8} {"GB/s",6} {"x n=1",6}");
        using var team = new ComputeTeam(threads);
        int maxN = ns.Max();
        foreach (var type in types)
        {
            long bytes = GgmlTypeInfo.RowBytes(type, cols) * rows;
            int copies = (int)Math.Clamp(192L * 1024 * 1024 / bytes, 1, 64);
            var buffers = new byte[copies][];
            var mats = new WeightMatrix[copies];
            for (int c = 0; c < copies; c++)
            {
                buffers[c] = KernelThroughput.RandomWeights(type, bytes, seed: c);
                mats[c] = new WeightMatrix(type, Marshal.UnsafeAddrOfPinnedArrayElement(buffers[c], 0), rows, cols, $"bench{c}");
                if (Environment.GetEnvironmentVariable("FRUGAL_REPACK") != "0") // as a model load does
                    mats[c].PrepareKernelLayout();
            }
            var x = new float[maxN * cols];
            var rng = new Random(1);
            for (int i = 0; i < x.Length; i++)
                x[i] = (float)(rng.NextDouble() * 2 - 1);
            var y = new float[maxN * rows];
            double t1 = 0;
            foreach (int n in ns)
            {
                var xs = x.AsSpan(0, n * cols);
                var ys = y.AsSpan(0, n * rows);
                // Warm-up: at least 0.3 s so tier-1 code is in place before timing.
                long w0 = Stopwatch.GetTimestamp();
                while (Stopwatch.GetElapsedTime(w0).TotalSeconds < 0.3)
                    for (int c = 0; c < copies; c++)
                        mats[c].Multiply(xs, ys, n, team, path);
                var sweeps = new List<double>();
                for (int rep = 0; rep < 5; rep++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    for (int c = 0; c < copies; c++)
                        mats[c].Multiply(xs, ys, n, team, path);
                    sweeps.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds / copies);
                }
                sweeps.Sort();
                double t = sweeps[sweeps.Count / 2];
                if (n == ns[0])
                    t1 = t / n * ns[0];
                Console.WriteLine($"{type,-6} {n,3} {t * 1e6,9:F0} {2.0 * rows * cols * n / t / 1e9,8:F1} {bytes / t / 1e9,6:F1} {t / t1,6:F2}");
            }
            GC.KeepAlive(buffers);
        }
    }
}
