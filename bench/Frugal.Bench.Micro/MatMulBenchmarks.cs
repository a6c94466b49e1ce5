using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Frugal.Numerics;
using Frugal.Numerics.Threading;

namespace Frugal.Bench.Micro;

/// <summary>
/// One weight matrix times n activation rows through the public <see cref="WeightMatrix.Multiply(ReadOnlySpan{float}, Span{float}, int)"/>
/// on a one-thread default team (best kernel path of this CPU). Odd sizes on purpose: 1031 rows (no even split),
/// 97 blocks of 32 per row for the 32-element formats (an unpaired last block for the AVX-512 pair loop) and 13
/// super-blocks for the k-quants. n = 1 is decode, n = 3 and 8 batched decode (a partial and a full 8-wide tile),
/// n = 13 a tile plus a tail. The matrix fits in L2/L3, so these time the arithmetic, not DRAM; decode bandwidth
/// is the Frugal.Bench small-n and kernels subcommands' job.
/// </summary>
[MemoryDiagnoser]
public unsafe class MatMulBenchmarks
{
    private const int Rows = 1031;

    private byte[] _weights = [];
    private WeightMatrix? _matrix;
    private float[] _x = [];
    private float[] _y = [];

    [Params(GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K)]
    public GgmlType Type { get; set; }

    [Params(1, 3, 8, 13)]
    public int N { get; set; }

    private int Cols => GgmlTypeInfo.BlockSize(Type) == 256 ? 13 * 256 : 97 * 32;

    [GlobalSetup]
    public void Setup()
    {
        ComputeTeam.ConfigureDefault(1);
        long bytes = GgmlTypeInfo.RowBytes(Type, Cols) * Rows;
        _weights = GC.AllocateUninitializedArray<byte>((int)bytes, pinned: true);
        var rng = new Random(7);
        rng.NextBytes(_weights);
        // Finite, small block scales: every fp16 scale/min slot of the format set to 0.01.
        int ts = GgmlTypeInfo.TypeSize(Type);
        int[] halves = Type switch
        {
            GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => [0],
            GgmlType.Q4_K => [0, 2],
            GgmlType.Q6_K => [208],
            _ => [],
        };
        for (long b = 0; b < bytes / ts; b++)
            foreach (int off in halves)
                BitConverter.TryWriteBytes(_weights.AsSpan((int)(b * ts + off)), (Half)0.01);
        _matrix = new WeightMatrix(Type, Marshal.UnsafeAddrOfPinnedArrayElement(_weights, 0), Rows, Cols, "micro");
        _x = new float[N * Cols];
        for (int i = 0; i < _x.Length; i++)
            _x[i] = (float)(rng.NextDouble() * 2 - 1);
        _y = new float[N * Rows];
    }

    [Benchmark]
    public void Multiply() => _matrix!.Multiply(_x, _y, N);

    [GlobalCleanup]
    public void Cleanup() => GC.KeepAlive(_weights);
}
