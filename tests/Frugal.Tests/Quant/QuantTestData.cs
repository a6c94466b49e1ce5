using Frugal.Numerics;

namespace Frugal.Tests.Quant;

/// <summary>Inputs for the quant format tests: fixed seeds, shapes that hit the edge paths of each quantizer.</summary>
public static class QuantTestData
{
    /// <summary>Every block format Dequantize supports (the 16/32-bit float types are tested separately).</summary>
    public static readonly GgmlType[] BlockTypes =
    [
        GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    public static readonly string[] Distributions =
        ["gaussian", "uniform", "positive", "zeros", "constant", "sparse", "outliers", "tiny", "float-subnormal", "subnormal-scale", "huge", "fp16-overflow", "half-steps"];

    public static IEnumerable<object[]> DistributionCases() => Distributions.Select(d => new object[] { d });

    public static IEnumerable<object[]> BlockTypeCases() => BlockTypes.Select(t => new object[] { t });

    public static IEnumerable<object[]> BlockTypeByDistribution() =>
        from t in BlockTypes from d in Distributions select new object[] { t, d };

    /// <summary>A row of one block, and a row of many blocks (an odd count, so no power-of-two luck).</summary>
    public static int[] RowLengths(GgmlType type) => [GgmlTypeInfo.BlockSize(type), GgmlTypeInfo.BlockSize(type) * 37];

    /// <summary><paramref name="n"/> floats of the named distribution; the seed depends only on the name and n.</summary>
    public static float[] Generate(string distribution, int n)
    {
        var rng = new Random(HashCode(distribution) ^ n);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = distribution switch
            {
                "gaussian" => Gaussian(rng),
                "uniform" => (float)(rng.NextDouble() * 2 - 1),
                "positive" => 1 + MathF.Abs(Gaussian(rng)),
                "zeros" => 0f,
                "constant" => -0.75f,
                "sparse" => rng.Next(16) == 0 ? Gaussian(rng) : 0f,
                "outliers" => rng.Next(64) == 0 ? 100 * Gaussian(rng) : Gaussian(rng),
                "tiny" => 1e-30f * Gaussian(rng),
                "float-subnormal" => 1e-39f * Gaussian(rng), // the scale underflows and 1/d overflows to inf
                "subnormal-scale" => 1e-6f * Gaussian(rng),
                "huge" => 3e4f * Gaussian(rng),
                "fp16-overflow" => 1e7f * Gaussian(rng),
                // With 127 in every 32 the 8-bit scale is exactly 1, so every other value is a rounding tie.
                "half-steps" => i % 32 == 0 ? 127f : rng.Next(-127, 127) + 0.5f,
                _ => throw new ArgumentException($"unknown distribution '{distribution}'"),
            };
        }
        return x;
    }

    public static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>Bit patterns of two float arrays compared element by element; reports the first difference.</summary>
    public static void AssertBitExact(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            int e = BitConverter.SingleToInt32Bits(expected[i]), a = BitConverter.SingleToInt32Bits(actual[i]);
            if (e != a)
                Assert.Fail($"{what}: element {i}: ggml {expected[i]:R} (0x{e:X8}), ours {actual[i]:R} (0x{a:X8})");
        }
    }

    /// <summary>Byte arrays compared with the first differing offset reported.</summary>
    public static void AssertBytesEqual(byte[] expected, byte[] actual, string what, int blockBytes)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
                Assert.Fail($"{what}: byte {i} (block {i / blockBytes}, offset {i % blockBytes}): ggml 0x{expected[i]:X2}, ours 0x{actual[i]:X2}");
        }
    }

    private static int HashCode(string s)
    {
        int h = 17;
        foreach (char c in s) h = h * 31 + c;
        return h;
    }
}
