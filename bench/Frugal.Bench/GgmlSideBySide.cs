using System.Diagnostics;
using System.Runtime.InteropServices;
using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Bench;

/// <summary>
/// Frugal's single-thread matvec against ggml's own vec_dot kernels (libggml-cpu.so bundled by LLamaSharp, the
/// code llama.cpp runs for a mat-vec on this CPU), alternating rounds in one process so machine noise hits both.
/// ggml's activation quantization is timed too, as Frugal's is. Weights cycle through enough copies to leave the LLC.
/// Frugal runs twice: on the GGUF blocks, and with its load-time kernel layout (<see cref="WeightMatrix.PrepareKernelLayout"/>,
/// Q4_0 on AVX-512 today; the same as the first where a type is not repacked).
/// </summary>
internal static unsafe class GgmlSideBySide
{
    public static void Run(int rows, int cols, GgmlType[] types, int rounds, int tokens, KernelPath path)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "avx512");
        NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        nint cpu = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
        ((delegate* unmanaged<void>)NativeLibrary.GetExport(cpu, "ggml_cpu_init"))();
        Console.WriteLine($"single thread, {rows} x {cols}, {tokens} token(s), median of {rounds} alternating rounds; frugal path {path}");
        Console.WriteLine($"{"type",-6} {"ggml us",10} {"frugal us",10} {"frugal/ggml speed",18} {"repacked us",12} {"repacked/ggml",14}");
        using var team = new ComputeTeam(1);
        foreach (var type in types)
        {
            bool k = GgmlTypeInfo.BlockSize(type) == 256;
            string name = type.ToString().ToLowerInvariant().Replace("_k", "_K");
            string act = k ? "q8_K" : type is GgmlType.Q4_1 or GgmlType.Q5_1 ? "q8_1" : "q8_0";
            var dot = (delegate* unmanaged<int, float*, nuint, void*, nuint, void*, nuint, int, void>)NativeLibrary.GetExport(cpu, $"ggml_vec_dot_{name}_{act}");
            var quant = (delegate* unmanaged<float*, void*, long, void>)NativeLibrary.GetExport(cpu, $"quantize_row_{act}");
            long bytes = GgmlTypeInfo.RowBytes(type, cols) * rows;
            long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
            int copies = (int)Math.Clamp(256L * 1024 * 1024 / bytes, 1, 64);
            var buffers = new byte[copies][];
            var mats = new WeightMatrix[copies];
            var packed = new WeightMatrix[copies];
            double repackSeconds = 0;
            long repackBytes = 0;
            for (int c = 0; c < copies; c++)
            {
                buffers[c] = KernelThroughput.RandomWeights(type, bytes, c);
                mats[c] = new WeightMatrix(type, Marshal.UnsafeAddrOfPinnedArrayElement(buffers[c], 0), rows, cols, "w");
                packed[c] = new WeightMatrix(type, Marshal.UnsafeAddrOfPinnedArrayElement(buffers[c], 0), rows, cols, "w");
                long r0 = Stopwatch.GetTimestamp();
                repackBytes += packed[c].PrepareKernelLayout();
                repackSeconds += Stopwatch.GetElapsedTime(r0).TotalSeconds;
            }
            if (repackBytes > 0)
                Console.WriteLine($"{type}: repacked {repackBytes / 1e6:F0} MB at load in {repackSeconds:F2} s ({repackBytes / 1e6 / repackSeconds:F0} MB/s)");
            var x = new float[tokens * cols];
            var rng = new Random(3);
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            var y = new float[tokens * rows];
            var xq = new byte[tokens * (cols / 32) * 40 + 4096];
            int actRow = k ? cols / 256 * 292 : act == "q8_1" ? cols / 32 * 36 : cols / 32 * 34;
            var tg = new List<double>();
            var tf = new List<double>();
            var tp = new List<double>();
            for (int round = 0; round <= rounds; round++)
            {
                long t0 = Stopwatch.GetTimestamp();
                fixed (float* xp = x)
                fixed (float* yp = y)
                fixed (byte* qp = xq)
                    for (int c = 0; c < copies; c++)
                    {
                        byte* w = (byte*)mats[c].Data;
                        for (int t = 0; t < tokens; t++)
                            quant(xp + t * cols, qp + t * actRow, cols);
                        for (int r = 0; r < rows; r++)
                            for (int t = 0; t < tokens; t++)
                                dot(cols, yp + t * rows + r, 0, w + r * rowBytes, 0, qp + t * actRow, 0, 1);
                    }
                double g = Stopwatch.GetElapsedTime(t0).TotalSeconds / copies;
                t0 = Stopwatch.GetTimestamp();
                for (int c = 0; c < copies; c++)
                    mats[c].Multiply(x, y, tokens, team, path);
                double f = Stopwatch.GetElapsedTime(t0).TotalSeconds / copies;
                t0 = Stopwatch.GetTimestamp();
                for (int c = 0; c < copies; c++)
                    packed[c].Multiply(x, y, tokens, team, path);
                double p = Stopwatch.GetElapsedTime(t0).TotalSeconds / copies;
                if (round > 0) { tg.Add(g); tf.Add(f); tp.Add(p); }
            }
            GC.KeepAlive(buffers);
            foreach (var m in packed) m.Dispose();
            tg.Sort();
            tf.Sort();
            tp.Sort();
            double mg = tg[tg.Count / 2], mf = tf[tf.Count / 2], mp = tp[tp.Count / 2];
            Console.WriteLine($"{type,-6} {mg * 1e6,10:F0} {mf * 1e6,10:F0} {mg / mf,17:F2}x {mp * 1e6,12:F0} {mg / mp,13:F2}x");
        }
    }
}
