using System.Runtime.InteropServices;
using Frugal.Numerics;

namespace Frugal.Tests.Oracle;

/// <summary>
/// ggml's own quantizers and dequantizers, called from libggml-base.so (the copy LLamaSharp loaded), as the
/// oracle for Numerics/Quant. Function pointers from the loaded library avoid any DllImport name resolution.
/// </summary>
public static unsafe class GgmlNative
{
    private static readonly Lazy<nint> Library = new(() =>
        NativeLibrary.Load(Path.Combine(LlamaCppRuntime.NativeDirectory, "libggml-base.so")));

    private static nint Export(string name) => NativeLibrary.GetExport(Library.Value, name);

    /// <summary>ggml_quantize_chunk without an importance matrix: <paramref name="nrows"/> rows of <paramref name="nPerRow"/> floats.</summary>
    public static byte[] QuantizeChunk(GgmlType type, ReadOnlySpan<float> src, int nrows, int nPerRow)
    {
        if (src.Length != nrows * nPerRow)
            throw new ArgumentException($"{nrows} x {nPerRow} floats expected, got {src.Length}");
        var dst = new byte[GgmlTypeInfo.RowBytes(type, nPerRow) * nrows];
        var fn = (delegate* unmanaged<int, float*, void*, long, long, long, float*, nuint>)Export("ggml_quantize_chunk");
        nuint written;
        fixed (float* s = src)
        fixed (byte* d = dst)
            written = fn((int)type, s, d, 0, nrows, nPerRow, null);
        if ((long)written != dst.Length)
            throw new InvalidOperationException($"ggml_quantize_chunk({type}) wrote {written} bytes, expected {dst.Length}");
        return dst;
    }

    /// <summary>quantize_row_q8_K_ref (ggml_quantize_chunk has no Q8_K case). The output starts zeroed.</summary>
    public static byte[] QuantizeRowQ8_K(ReadOnlySpan<float> src)
    {
        var dst = new byte[GgmlTypeInfo.RowBytes(GgmlType.Q8_K, src.Length)];
        var fn = (delegate* unmanaged<float*, void*, long, void>)Export("quantize_row_q8_K_ref");
        fixed (float* s = src)
        fixed (byte* d = dst)
            fn(s, d, src.Length);
        return dst;
    }

    /// <summary>ggml's dequantize_row_* for a block type (Q8_K included); <paramref name="count"/> elements.</summary>
    public static float[] DequantizeRow(GgmlType type, ReadOnlySpan<byte> src, int count)
    {
        if (src.Length < GgmlTypeInfo.RowBytes(type, count))
            throw new ArgumentException($"{count} {type} elements need {GgmlTypeInfo.RowBytes(type, count)} bytes, got {src.Length}");
        string name = type switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K =>
                "dequantize_row_" + type.ToString().ToLowerInvariant().Replace("_k", "_K", StringComparison.Ordinal),
            _ => "dequantize_row_" + type.ToString().ToLowerInvariant(),
        };
        var fn = (delegate* unmanaged<void*, float*, long, void>)Export(name);
        var dst = new float[count];
        fixed (byte* s = src)
        fixed (float* d = dst)
            fn(s, d, count);
        return dst;
    }

    /// <summary>ggml_fp16_to_fp32_row for F16, and ggml_bf16_to_fp32_row for BF16.</summary>
    public static float[] ConvertRowToFloat(GgmlType type, ReadOnlySpan<byte> src, int count)
    {
        string name = type switch
        {
            GgmlType.F16 => "ggml_fp16_to_fp32_row",
            GgmlType.BF16 => "ggml_bf16_to_fp32_row",
            _ => throw new ArgumentException($"{type} is not a 16-bit float type"),
        };
        var fn = (delegate* unmanaged<void*, float*, long, void>)Export(name);
        var dst = new float[count];
        fixed (byte* s = src)
        fixed (float* d = dst)
            fn(s, d, count);
        return dst;
    }
}
