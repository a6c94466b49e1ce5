namespace Frugal.Numerics.Quant;

/// <summary>
/// Scalar conversions exactly as ggml performs them (ggml-impl.h, ggml-quants.c), so that our quantizers and
/// dequantizers produce the same bits as llama.cpp's. Every quant format goes through these.
/// </summary>
public static class GgmlScalar
{
    /// <summary>fp16 bits to float. Every fp16 value is exact in fp32, so the hardware conversion equals ggml's.</summary>
    public static float Fp16ToFloat(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>float to fp16 bits, round to nearest even; NaN becomes the quiet NaN 0x7E00 (with sign) as in ggml.</summary>
    public static ushort FloatToFp16(float value)
    {
        if (float.IsNaN(value))
            return (ushort)((BitConverter.SingleToUInt32Bits(value) >> 16) & 0x8000 | 0x7E00);
        return BitConverter.HalfToUInt16Bits((Half)value);
    }

    /// <summary>bf16 bits to float: the upper half of an fp32.</summary>
    public static float Bf16ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>float to bf16 bits, round to nearest even; NaN is kept and forced quiet (ggml_compute_fp32_to_bf16).</summary>
    public static ushort FloatToBf16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffff) > 0x7f800000)
            return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>
    /// ggml's nearest_int: adds 1.5 * 2^23 so the float unit rounds to nearest even, then reads the integer from
    /// the mantissa. For |x| beyond 2^22 the result is garbage, but the same garbage as ggml's.
    /// </summary>
    public static int NearestInt(float value)
    {
        float v = value + 12582912f;
        return (BitConverter.SingleToInt32Bits(v) & 0x007fffff) - 0x00400000;
    }

    /// <summary>
    /// C's float-to-integer conversion as x86-64 performs it (cvttss2si): truncation toward zero, and
    /// 0x80000000 for NaN or out-of-range values. .NET saturates instead, which would differ on extreme inputs.
    /// </summary>
    public static int TruncateToInt32(float value) =>
        value >= -2147483648f && value < 2147483648f ? (int)value : int.MinValue;

    /// <summary>C's <c>(int8_t)</c> cast of a float on x86-64: the low byte of <see cref="TruncateToInt32"/>.</summary>
    public static int ToInt8(float value) => (sbyte)TruncateToInt32(value);
}
