using System.Diagnostics;
using System.Runtime.InteropServices;
using Frugal.Numerics.Kernels;

namespace Frugal.Bench;

internal static unsafe class RepackProbe
{
    public static void Run(int groups, int reps)
    {
        int cols = 2048;
        long q6 = Q6_Kx16.GroupBytes(cols / 256), q4 = Q4_0x16.GroupBytes(cols / 32), k4 = Q4_Kx16.GroupBytes(cols / 256);
        byte* w6 = (byte*)NativeMemory.AlignedAlloc((nuint)(q6 * groups), 64);
        byte* w4 = (byte*)NativeMemory.AlignedAlloc((nuint)(q4 * groups), 64);
        byte* wk = (byte*)NativeMemory.AlignedAlloc((nuint)(k4 * groups), 64);
        new Span<byte>(wk, (int)(k4 * groups)).Fill(0x11);
        new Span<byte>(w6, (int)(q6 * groups)).Fill(0x11);
        new Span<byte>(w4, (int)(q4 * groups)).Fill(0x11);
        var qs = (sbyte*)NativeMemory.AlignedAlloc(4096, 64);
        var sc = (float*)NativeMemory.AlignedAlloc(4096, 64);
        var sums = (short*)NativeMemory.AlignedAlloc(4096, 64);
        new Span<byte>(qs, 4096).Fill(3); new Span<byte>(sc, 4096).Clear(); new Span<byte>(sums, 4096).Clear();
        var a6 = new QuantizedRows(qs, 2048, sc, 8, sums, 128);
        var a4 = new QuantizedRows(qs, 2048, sc, 64, null, 0);
        float* y = stackalloc float[16];
        for (int round = 0; round < 3; round++)
        {
            var t = Stopwatch.StartNew();
            for (int r = 0; r < reps; r++)
                for (int g = 0; g < groups; g++)
                    Q6_Kx16Avx512.Dot(w6 + g * q6, cols / 256, a6, 0, y);
            double s6 = t.Elapsed.TotalSeconds;
            t.Restart();
            for (int r = 0; r < reps; r++)
                for (int g = 0; g < groups; g++)
                    Q4_0x16Avx512.Dot<One>(w4 + g * q4, cols / 32, a4, 0, y, 16);
            double s4 = t.Elapsed.TotalSeconds;
            t.Restart();
            for (int r = 0; r < reps; r++)
                for (int g = 0; g < groups; g++)
                    Q4_Kx16Avx512.Dot<One>(wk + g * k4, cols / 256, a6, 0, y, 16);
            double sk = t.Elapsed.TotalSeconds;
            Console.WriteLine($"groups {groups}: q6_K {q6 * groups * (double)reps / s6 / 1e9:F1} GB/s, q4_0 {q4 * groups * (double)reps / s4 / 1e9:F1} GB/s, q4_K {k4 * groups * (double)reps / sk / 1e9:F1} GB/s");
        }
    }
}
