using System.Runtime.InteropServices;
using Frugal.Numerics;
using Frugal.Numerics.Quant;
using Frugal.Tests.Oracle;

namespace Frugal.Tests.Quant;

/// <summary>
/// The 8-bit activation formats of the integer dot products, against both ggml's reference quantizers and the
/// ones llama.cpp's CPU backend actually runs on activations (libggml-cpu).
/// </summary>
public class ActivationQuantTests
{
    [Theory]
    [MemberData(nameof(QuantTestData.DistributionCases), MemberType = typeof(QuantTestData))]
    public void Q8_1_reference_quantization_matches_ggml_byte_for_byte(string distribution)
    {
        float[] x = QuantTestData.Generate(distribution, 32 * 41);
        byte[] expected = GgmlNative.QuantizeRow("quantize_row_q8_1_ref", GgmlType.Q8_1, x);
        var actual = new byte[expected.Length];
        BlockQ8_1.Quantize(x, MemoryMarshal.Cast<byte, BlockQ8_1>(actual.AsSpan()));
        QuantTestData.AssertBytesEqual(expected, actual, $"Q8_1 ref {distribution}", 36);
    }

    [Theory]
    [MemberData(nameof(QuantTestData.DistributionCases), MemberType = typeof(QuantTestData))]
    public void Q8_0_and_Q8_1_activations_match_the_cpu_backend_byte_for_byte(string distribution)
    {
        float[] x = QuantTestData.Generate(distribution, 32 * 41);
        byte[] expected0 = GgmlNative.QuantizeRow("quantize_row_q8_0", GgmlType.Q8_0, x, cpuBackend: true);
        byte[] expected1 = GgmlNative.QuantizeRow("quantize_row_q8_1", GgmlType.Q8_1, x, cpuBackend: true);
        var actual0 = new byte[expected0.Length];
        var actual1 = new byte[expected1.Length];
        if (GgmlNative.CpuBackendIsAvx)
        {
            BlockQ8_0.QuantizeActivations(x, MemoryMarshal.Cast<byte, BlockQ8_0>(actual0.AsSpan()));
            BlockQ8_1.QuantizeActivations(x, MemoryMarshal.Cast<byte, BlockQ8_1>(actual1.AsSpan()));
        }
        else
        {
            // A build without AVX falls back to the reference quantizers.
            BlockQ8_0.Quantize(x, MemoryMarshal.Cast<byte, BlockQ8_0>(actual0.AsSpan()));
            BlockQ8_1.Quantize(x, MemoryMarshal.Cast<byte, BlockQ8_1>(actual1.AsSpan()));
        }
        QuantTestData.AssertBytesEqual(expected0, actual0, $"Q8_0 activations {distribution}", 34);
        QuantTestData.AssertBytesEqual(expected1, actual1, $"Q8_1 activations {distribution}", 36);
    }

    [Theory]
    [MemberData(nameof(QuantTestData.DistributionCases), MemberType = typeof(QuantTestData))]
    public void Q8_K_activations_match_the_cpu_backend_byte_for_byte(string distribution)
    {
        float[] x = QuantTestData.Generate(distribution, 256 * 7);
        byte[] expected = GgmlNative.QuantizeRow("quantize_row_q8_K", GgmlType.Q8_K, x, cpuBackend: true);
        var actual = new byte[expected.Length];
        Quantize.Row(GgmlType.Q8_K, x, actual);
        QuantTestData.AssertBytesEqual(expected, actual, $"Q8_K activations {distribution}", 292);
    }

    [Fact]
    public void The_cpu_backend_rounding_differs_from_the_reference_on_ties()
    {
        // 0.5 * 127 / 127 lands exactly on a tie: half-even gives 0 where the reference's half-away gives 1
        // (so the two Q8_0 quantizers are not interchangeable when matching llama.cpp's logits).
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = 0.5f;
        x[2] = -2.5f;
        var reference = new BlockQ8_0[1];
        var activations = new BlockQ8_0[1];
        BlockQ8_0.Quantize(x, reference);
        BlockQ8_0.QuantizeActivations(x, activations);
        Assert.Equal((1, -3), Quants(reference[0]));
        Assert.Equal((0, -2), Quants(activations[0]));
    }

    [Fact]
    public void Q8_0_activations_use_127_over_amax_like_the_cpu_backend()
    {
        // Blocks built so that x * (127 / amax) and x * (1 / (amax / 127)) round to different integers: only the
        // CPU backend's exact multiplier reproduces its bytes here.
        var x = new List<float>();
        for (int k = 1; x.Count < 32 * 8 && k < 200_000; k++)
        {
            float amax = 1f + k * 1e-5f;
            float idCpu = 127f / amax, idRef = 1f / (amax / 127f);
            if (idCpu == idRef) continue;
            var block = new List<float> { amax };
            for (int q = 0; q < 127 && block.Count < 32; q++)
            {
                float v = (q + 0.5f) / idCpu;
                for (int ulp = -4; ulp <= 4; ulp++)
                {
                    float c = BitStep(v, ulp);
                    if (MathF.Abs(c) < amax && MathF.Round(c * idCpu) != MathF.Round(c * idRef)) { block.Add(c); break; }
                }
            }
            if (block.Count == 32) x.AddRange(block);
        }
        Assert.Equal(32 * 8, x.Count);
        float[] row = x.ToArray();
        byte[] expected = GgmlNative.QuantizeRow("quantize_row_q8_0", GgmlType.Q8_0, row, cpuBackend: true);
        var actual = new byte[expected.Length];
        if (GgmlNative.CpuBackendIsAvx)
            BlockQ8_0.QuantizeActivations(row, MemoryMarshal.Cast<byte, BlockQ8_0>(actual.AsSpan()));
        else
            BlockQ8_0.Quantize(row, MemoryMarshal.Cast<byte, BlockQ8_0>(actual.AsSpan()));
        QuantTestData.AssertBytesEqual(expected, actual, "Q8_0 activations at multiplier boundaries", 34);
    }

    private static float BitStep(float v, int ulps) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v) + ulps);

    private static unsafe (int, int) Quants(BlockQ8_0 b) => (b.Qs[1], b.Qs[2]);
}
