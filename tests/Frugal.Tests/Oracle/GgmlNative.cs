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

    private static readonly Lazy<nint> CpuLibrary = new(() =>
        NativeLibrary.Load(Path.Combine(LlamaCppRuntime.NativeDirectory, "libggml-cpu.so")));

    private static nint Export(string name) => NativeLibrary.GetExport(Library.Value, name);

    /// <summary>True when the loaded CPU backend is a SIMD build (its activation quantizers take the AVX path).</summary>
    public static bool CpuBackendIsAvx => !LlamaCppRuntime.NativeDirectory.EndsWith("noavx", StringComparison.Ordinal);

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

    /// <summary>
    /// A row quantizer by name, into a zeroed buffer: the reference ones (quantize_row_q8_K_ref, ...) from
    /// libggml-base, or, with <paramref name="cpuBackend"/>, the ones the CPU backend runs on activations
    /// (quantize_row_q8_0, quantize_row_q8_1, quantize_row_q8_K) from libggml-cpu.
    /// </summary>
    public static byte[] QuantizeRow(string function, GgmlType type, ReadOnlySpan<float> src, bool cpuBackend = false)
    {
        var dst = new byte[GgmlTypeInfo.RowBytes(type, src.Length)];
        nint address = cpuBackend ? NativeLibrary.GetExport(CpuLibrary.Value, function) : Export(function);
        var fn = (delegate* unmanaged<float*, void*, long, void>)address;
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
