using Frugal.Numerics.Threading;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Y[n, rows] = X[n, cols] · Wᵀ on the block-format kernels. Activations are quantized once per call into the
/// team's scratch (Q8_0 form for 32-element formats, Q8_K for k-quants); then each team member takes a
/// contiguous, equal range of weight rows. For n = 1 (decode) every weight row is streamed once; for n > 1
/// (prefill) activation rows go in column blocks that stay in L2 and each weight block is unpacked once per
/// four tokens (the <see cref="Four"/> micro-tile).
/// </summary>
internal static unsafe class MatMul
{
    /// <summary>Activation bytes per column block: about half of a Zen/Intel L2, leaving room for the weights.</summary>
    private const int ColumnBlockBytes = 384 * 1024;

    /// <summary>Sees the f32 activations <paramref name="x"/> [n, cols] of a multiply by a <paramref name="type"/> weight.</summary>
    internal delegate void ActivationObserver(GgmlType type, int n, int cols, ReadOnlySpan<float> x);

    /// <summary>
    /// Test seam (per thread, so parallel tests do not see each other): called with the activations of every
    /// multiply by a quantized weight, before they are rounded to 8 bits. Null in normal use.
    /// </summary>
    [ThreadStatic]
    internal static ActivationObserver? Observer;

    /// <summary>
    /// <paramref name="w"/> is [rows, rowBytes] blocks of <paramref name="weight"/>'s type, <paramref name="x"/> [n, cols],
    /// <paramref name="y"/> [n, rows]; <paramref name="packed"/> its repacked copy, or null. The caller has checked the sizes.
    /// </summary>
    public static void Multiply(ComputeTeam team, WeightType weight, byte* w, long rowBytes, int rows, int cols,
        float* x, float* y, int n, KernelPath path, byte* packed = null)
    {
        if (!KernelDispatch.IsSupported(path))
            throw new ArgumentException($"kernel path {path} is not supported on this CPU", nameof(path));
        lock (team.RunGate)
        {
            if (!weight.Repacks(path))
                packed = null;
            byte* s = team.Scratch(ScratchBytes(weight, packed != null, n, cols));
            var job = team.MatMulJob ??= new MatMulJob();
            bool quantize = Prepare(job, weight, path, w, rowBytes, rows, cols, x, y, n, packed, s);
            bool inline = team.RunsInline((long)rows * cols * n);
            if (quantize)
            {
                if (n == 1 || inline)
                    job.Quantize(0, 1);
                else
                {
                    job.Phase = MatMulJob.Step.Quantize;
                    team.Run(job);
                }
            }
            job.Phase = MatMulJob.Step.Multiply;
            if (inline) job.Execute(0, 1);
            else team.Run(job);
            job.Clear();
        }
    }

    /// <summary>Bytes of team scratch one multiply's activations take (their F16-rounded or 8-bit quantized form).</summary>
    internal static long ScratchBytes(WeightType weight, bool repacked, int n, int cols)
    {
        var kind = weight.Activation;
        if (kind == ActivationKind.F16)
            return (repacked ? 2L : 1L) * n * cols * sizeof(float); // rounded, then (repacked) scaled for F16x16
        if (kind == ActivationKind.None)
            return 0;
        long rowBytesA = kind == ActivationKind.Q8_0 ? QuantizedRows.Q8_0RowBytes(cols) : QuantizedRows.Q8_KRowBytes(cols);
        // The Q8_0x16 kernel reads the activations as unsigned bytes q + 128: a copy after the Q8_0 form.
        long offsetCopy = repacked && weight.UnsignedActivations ? (long)QuantizedRows.QsStrideFor(cols) * n : 0;
        return rowBytesA * n + offsetCopy;
    }

    /// <summary>
    /// Sets <paramref name="job"/> up for one multiply whose activations go to <paramref name="s"/>
    /// (<see cref="ScratchBytes"/> long; <paramref name="packed"/> already null where the path does not repack). F16
    /// weights get their activations rounded to F16 here; returns whether they still need quantizing (the job's
    /// Quantize step) before the multiply.
    /// </summary>
    internal static bool Prepare(MatMulJob job, WeightType weight, KernelPath path, byte* w, long rowBytes, int rows, int cols,
        float* x, float* y, int n, byte* packed, byte* s)
    {
        var kind = weight.Activation;
        float* packedX = null;
        if (kind == ActivationKind.F16)
        {
            // Rounded once per multiply into the team's scratch (the caller's activations stay as they are).
            var rounded = (float*)s;
            HalfConversion.RoundToHalf(x, rounded, (long)n * cols);
            x = rounded;
            kind = ActivationKind.None;
            if (packed != null)
            {
                // The F16x16 kernel's operand: scaled here once rather than each weight per use (exact: a power of 2).
                packedX = rounded + (long)n * cols;
                var all = (int)((long)n * cols);
                System.Numerics.Tensors.TensorPrimitives.Multiply(new ReadOnlySpan<float>(rounded, all), F16x16.ActivationScale, new Span<float>(packedX, all));
            }
        }
        if (kind != ActivationKind.None)
            Observer?.Invoke(weight.Type, n, cols, new ReadOnlySpan<float>(x, n * cols));
        bool unsignedQs = packed != null && weight.UnsignedActivations;
        QuantizedRows a = default;
        long perCol = cols * 4L;
        if (kind != ActivationKind.None)
        {
            int qsStride = QuantizedRows.QsStrideFor(cols);
            long rowBytesA = kind == ActivationKind.Q8_0 ? QuantizedRows.Q8_0RowBytes(cols) : QuantizedRows.Q8_KRowBytes(cols);
            var qs = (sbyte*)s;
            var scales = (float*)(s + (long)qsStride * n);
            if (kind == ActivationKind.Q8_0)
                a = new QuantizedRows(qs, qsStride, scales, QuantizedRows.Q8_0ScaleStride(cols), null, 0);
            else
                a = new QuantizedRows(qs, qsStride, scales, cols / 256, (short*)(scales + (long)n * (cols / 256)), cols / 16);
            perCol = rowBytesA;
        }
        int colBlock = (int)Math.Clamp(ColumnBlockBytes / perCol / ColTile.MaxWide * ColTile.MaxWide, ColTile.MaxWide, 1 << 20);
        byte* offsetQs = unsignedQs ? (byte*)a.Qs + perCol * n : null;
        job.Set(weight, path, w, rowBytes, rows, cols, x, y, n, a, colBlock, packed, offsetQs, packedX);
        return kind != ActivationKind.None;
    }
}
