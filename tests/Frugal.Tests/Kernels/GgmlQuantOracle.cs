using System.Runtime.InteropServices;
using Frugal.Numerics;
using Frugal.Tests.Oracle;

namespace Frugal.Tests.Kernels;

/// <summary>ggml's own row dequantizers and Q8_K quantizer (exported by libggml-base.so), the kernels' outside oracle.</summary>
internal static unsafe class GgmlQuantOracle
{
    private static readonly Lazy<nint> Lib = new(() =>
        NativeLibrary.Load(Path.Combine(LlamaCppRuntime.NativeDirectory, "libggml-base.so")));

    private static nint Export(string name) => NativeLibrary.GetExport(Lib.Value, name);

    /// <summary>Dequantizes <paramref name="count"/> elements of a quantized type with ggml's dequantize_row_*.</summary>
    public static float[] Dequantize(GgmlType type, byte[] blocks, int count)
    {
        var dst = new float[count];
        var fn = (delegate* unmanaged<byte*, float*, long, void>)Export("dequantize_row_" + type.ToString().ToLowerInvariant().Replace("_k", "_K"));
        fixed (byte* src = blocks)
        fixed (float* d = dst)
            fn(src, d, count);
        return dst;
    }

    /// <summary>ggml's quantize_row_q8_K_ref: 292-byte blocks (float d, int8 qs[256], int16 bsums[16]).</summary>
    public static byte[] QuantizeQ8K(float[] x)
    {
        var dst = new byte[x.Length / 256 * 292];
        var fn = (delegate* unmanaged<float*, byte*, long, void>)Export("quantize_row_q8_K_ref");
        fixed (float* src = x)
        fixed (byte* d = dst)
            fn(src, d, x.Length);
        return dst;
    }
}
