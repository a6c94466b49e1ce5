using Frugal.Numerics;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>
/// <see cref="WeightMatrix.MultiplyEach"/> (a decode step's chosen experts in one team step) gives every matrix exactly
/// the numbers its own <see cref="WeightMatrix.Multiply(ReadOnlySpan{float}, Span{float}, int)"/> gives, repacked layouts included.
/// </summary>
public class MatMulGroupTests
{
    public static TheoryData<GgmlType, int> Cases()
    {
        var data = new TheoryData<GgmlType, int>();
        foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K })
            foreach (int n in new[] { 1, 3 })
                data.Add(type, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_matrix_of_a_group_matches_its_own_multiply_bit_for_bit(GgmlType type, int n)
    {
        const int rows = 48, cols = 512, count = 5;
        var harnesses = Enumerable.Range(0, count).Select(i => new KernelHarness(type, rows, cols, seed: 100 + i)).ToArray();
        foreach (var h in harnesses) h.Matrix.PrepareKernelLayout();
        var matrices = harnesses.Select(h => h.Matrix).ToArray();
        var rng = new Random(5);
        var x = Enumerable.Range(0, count * n * cols).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        using var team = new ComputeTeam(2);

        foreach (int stride in new[] { 0, n * cols })
        {
            var y = new float[count * n * rows];
            WeightMatrix.MultiplyEach(matrices, x, stride, y, n, team, KernelDispatch.Best);
            for (int i = 0; i < count; i++)
            {
                var own = new float[n * rows];
                matrices[i].Multiply(x.AsSpan(i * stride, n * cols), own, n, team, KernelDispatch.Best);
                Assert.Equal(own, y.AsSpan(i * n * rows, n * rows).ToArray());
            }
        }
        foreach (var m in matrices) m.Dispose();
    }

    [Fact]
    public void A_group_of_different_shapes_is_refused()
    {
        var a = new KernelHarness(GgmlType.Q8_0, 32, 64, seed: 1).Matrix;
        var b = new KernelHarness(GgmlType.Q8_0, 16, 64, seed: 2).Matrix;
        var e = Assert.Throws<ArgumentException>(() => WeightMatrix.MultiplyEach([a, b], new float[64], 0, new float[48], 1));
        Assert.Contains("every matrix of the group", e.Message);
    }
}
