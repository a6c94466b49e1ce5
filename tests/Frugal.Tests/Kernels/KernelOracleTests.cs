using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>The scalar twins against plain f32 arithmetic on ggml-dequantized weights; every SIMD path against its twin.</summary>
public sealed class KernelOracleTests : IDisposable
{
    private readonly ComputeTeam _team = new(1);

    public void Dispose() => _team.Dispose();

    public static TheoryData<GgmlType> AllTypes()
    {
        var d = new TheoryData<GgmlType>();
        foreach (var t in KernelTestData.QuantTypes.Concat(KernelTestData.FloatTypes))
            d.Add(t);
        return d;
    }

    /// <summary>Column counts at the tails: 1, 31, 33 and about 6·512+7 elements, in whole blocks.</summary>
    private static int[] TailCols(GgmlType type) => GgmlTypeInfo.BlockSize(type) switch
    {
        1 => [1, 31, 33, 6 * 512 + 7],
        32 => [32, 31 * 32, 33 * 32, 97 * 32],
        _ => [256, 3 * 256, 13 * 256],
    };

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Scalar_twin_matches_f32_dot_of_ggml_dequantized_weights(GgmlType type)
    {
        int cols = GgmlTypeInfo.BlockSize(type) == 1 ? 131 : GgmlTypeInfo.BlockSize(type) * 5;
        var h = new KernelHarness(type, rows: 5, cols, seed: 11);
        var x = KernelTestData.Activations(3, cols, seed: 12);
        var y = h.Run(x, 3, _team, KernelPath.Scalar);
        var (expected, mag) = h.Reference(h.EffectiveActivations(x, 3), 3);
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - expected[i]) <= 2e-5 * mag[i] + 1e-6,
                $"{type} output {i}: kernel {y[i]}, reference {expected[i]} (scale {mag[i]})");
        // Sanity of the oracle itself: the product is not trivially zero.
        Assert.Contains(expected, e => Math.Abs(e) > 1e-3);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Quantized_product_tracks_the_unquantized_activations(GgmlType type)
    {
        // Activation quantization to 8 bits must cost well under 1% of the product's scale.
        int cols = GgmlTypeInfo.BlockSize(type) == 1 ? 64 : GgmlTypeInfo.BlockSize(type) * 4;
        var h = new KernelHarness(type, rows: 3, cols, seed: 21);
        var x = KernelTestData.Activations(2, cols, seed: 22);
        var y = h.Run(x, 2, _team, KernelDispatch.Best);
        var (exact, mag) = h.Reference(x, 2);
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - exact[i]) <= 0.01 * mag[i], $"{type} output {i}: {y[i]} vs exact {exact[i]} (scale {mag[i]})");
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Every_simd_path_matches_the_scalar_twin_at_tail_sizes(GgmlType type)
    {
        foreach (int cols in TailCols(type))
            foreach (int n in new[] { 1, 3, 6, 8, 13 }) // every tile width of the 4- and 8-column kernels, and tails
            {
                var h = new KernelHarness(type, rows: 7, cols, seed: cols + n);
                var x = KernelTestData.Activations(n, cols, seed: cols * 3 + n);
                var scalar = h.Run(x, n, _team, KernelPath.Scalar);
                var (_, mag) = h.Reference(h.EffectiveActivations(x, n), n);
                foreach (var path in KernelDispatch.Supported.Where(p => p != KernelPath.Scalar))
                {
                    var y = h.Run(x, n, _team, path);
                    for (int i = 0; i < y.Length; i++)
                        Assert.True(Math.Abs(y[i] - scalar[i]) <= 2e-5 * mag[i] + 1e-6,
                            $"{type} {path} cols {cols} n {n} output {i}: {y[i]} vs scalar {scalar[i]} (scale {mag[i]})");
                }
            }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Batched_rows_give_bit_identical_results_to_one_row_at_a_time(GgmlType type)
    {
        // Batch invariance of the serving engine rests on this: a sequence's logits must not depend on how many
        // other sequences share its step, so a column's arithmetic may not depend on the tile it lands in.
        int cols = GgmlTypeInfo.BlockSize(type) == 256 ? 3 * 256 : 33 * 32;
        const int n = 11; // one 8-wide tile plus a 3-wide one (4 + 4 + 3 on the 128-bit paths)
        var h = new KernelHarness(type, rows: 9, cols, seed: 41);
        var x = KernelTestData.Activations(n, cols, seed: 42);
        foreach (var path in KernelDispatch.Supported)
        {
            var batched = h.Run(x, n, _team, path);
            for (int i = 0; i < n; i++)
            {
                var one = h.Run(x.AsSpan(i * cols, cols).ToArray(), 1, _team, path);
                for (int r = 0; r < h.Rows; r++)
                    Assert.True(one[r] == batched[i * h.Rows + r], $"{type} {path} row {i} output {r}: alone {one[r]}, batched {batched[i * h.Rows + r]}");
            }
        }
    }

    [Fact]
    public void Every_path_this_cpu_supports_is_exercised()
    {
        // On an AVX-512 machine all four paths run in the tests above; with DOTNET_EnableAVX512F=0 or
        // DOTNET_EnableAVX2=0 the best path drops and the fallbacks become the production path.
        Assert.Equal(KernelDispatch.Best, KernelDispatch.Supported[^1]);
        Assert.Contains(KernelPath.Scalar, KernelDispatch.Supported);
        Assert.True(KernelDispatch.IsSupported(KernelDispatch.Best));
    }
}
