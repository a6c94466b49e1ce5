using System.Runtime.CompilerServices;
using Frugal.Numerics.Threading;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Several independent multiplies Y_i = X_i · W_iᵀ of small <c>n</c> in one team step: each matrix is a
/// <see cref="MatMulJob"/> of its own (its activations quantized on the calling thread into their own part of the team's
/// scratch), and the members take row chunks of the first, then of the next, with one barrier at the end. A decode
/// step's chosen experts are 2k-3k small matrices; one step each would leave them single-threaded (each is under
/// <see cref="ComputeTeam.InlineMultiplyAdds"/>) or pay a barrier per matrix. Each row is computed by the same kernel as
/// <see cref="MatMul.Multiply"/> would, so the results are identical.
/// </summary>
internal sealed unsafe class MatMulGroup : IComputeJob
{
    private static readonly ConditionalWeakTable<ComputeTeam, MatMulGroup> PerTeam = new();

    private MatMulJob[] _jobs = [];
    private int _count;

    public void Execute(int worker, int workers)
    {
        for (int i = 0; i < _count; i++)
            _jobs[i].Execute(worker, workers);
    }

    /// <summary>
    /// Matrix i (of <paramref name="matrices"/>, one shape) multiplies x + i·<paramref name="xStride"/> ([n, cols];
    /// stride 0: all share one input) into y + i·n·rows. The caller has checked the sizes.
    /// </summary>
    public static void Multiply(ComputeTeam team, ReadOnlySpan<WeightMatrix> matrices, float* x, long xStride, float* y, int n, KernelPath path)
    {
        if (!KernelDispatch.IsSupported(path))
            throw new ArgumentException($"kernel path {path} is not supported on this CPU", nameof(path));
        int count = matrices.Length;
        if (count == 0 || n == 0)
            return;
        lock (team.RunGate)
        {
            var group = PerTeam.GetValue(team, _ => new MatMulGroup());
            if (group._jobs.Length < count)
            {
                int old = group._jobs.Length;
                Array.Resize(ref group._jobs, count);
                for (int i = old; i < count; i++) group._jobs[i] = new MatMulJob();
            }
            long total = 0;
            foreach (var m in matrices)
                total += (MatMul.ScratchBytes(m.WeightType, m.PackedLayout(path) != null, n, m.Cols) + 63) & ~63L;
            byte* s = team.Scratch(total);
            long work = 0;
            for (int i = 0; i < count; i++)
            {
                var m = matrices[i];
                var job = group._jobs[i];
                byte* packed = m.PackedLayout(path);
                if (MatMul.Prepare(job, m.WeightType, path, (byte*)m.Data, m.RowBytes, m.Rows, m.Cols, x + i * xStride, y + (long)i * n * m.Rows, n, packed, s))
                    job.Quantize(0, 1);
                job.Phase = MatMulJob.Step.Multiply;
                s += (MatMul.ScratchBytes(m.WeightType, packed != null, n, m.Cols) + 63) & ~63L;
                work += (long)m.Rows * m.Cols * n;
            }
            group._count = count;
            try
            {
                if (team.RunsInline(work)) group.Execute(0, 1);
                else team.Run(group);
            }
            finally
            {
                for (int i = 0; i < count; i++) group._jobs[i].Clear();
                group._count = 0;
            }
        }
    }
}
