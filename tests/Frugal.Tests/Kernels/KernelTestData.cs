using Frugal.Numerics;

namespace Frugal.Tests.Kernels;

/// <summary>Random but valid weight blocks and activations, with fixed seeds.</summary>
internal static class KernelTestData
{
    public static readonly GgmlType[] QuantTypes =
    [
        GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
        GgmlType.IQ4_NL, GgmlType.IQ4_XS,
    ];

    public static readonly GgmlType[] FloatTypes = [GgmlType.F32, GgmlType.F16, GgmlType.BF16];

    /// <summary>Byte offsets of the fp16 scale fields in one block of each quant type (ggml-common.h).</summary>
    private static int[] HalfFields(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL or GgmlType.IQ4_XS => [0],
        GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
        GgmlType.Q2_K => [80, 82],
        GgmlType.Q3_K => [108],
        GgmlType.Q6_K => [208],
        _ => [],
    };

    /// <summary>[rows, cols] of <paramref name="type"/>: random quant bytes (every bit pattern is a valid quant) and
    /// random positive fp16 scales; float types get random values in [-1, 1].</summary>
    public static byte[] Weights(GgmlType type, int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        long bytes = GgmlTypeInfo.RowBytes(type, cols) * rows;
        var data = new byte[bytes];
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < data.Length / 4; i++)
                    BitConverter.TryWriteBytes(data.AsSpan(4 * i), (float)(rng.NextDouble() * 2 - 1));
                return data;
            case GgmlType.F16:
                for (int i = 0; i < data.Length / 2; i++)
                    BitConverter.TryWriteBytes(data.AsSpan(2 * i), (Half)(rng.NextDouble() * 2 - 1));
                return data;
            case GgmlType.BF16:
                for (int i = 0; i < data.Length / 2; i++)
                    BitConverter.TryWriteBytes(data.AsSpan(2 * i), (ushort)(BitConverter.SingleToInt32Bits((float)(rng.NextDouble() * 2 - 1)) >> 16));
                return data;
        }
        rng.NextBytes(data);
        int ts = GgmlTypeInfo.TypeSize(type);
        for (long b = 0; b < data.Length / ts; b++)
            foreach (int off in HalfFields(type))
                BitConverter.TryWriteBytes(data.AsSpan((int)(b * ts + off)), (Half)(0.002 + rng.NextDouble() * 0.03));
        return data;
    }

    public static float[] Activations(int n, int cols, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * cols];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
