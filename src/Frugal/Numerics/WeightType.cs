using Frugal.Numerics.Kernels;

namespace Frugal.Numerics;

/// <summary>
/// How a multiply takes the activations of a weight type: as they are (F32, BF16), rounded to fp16 (F16: ggml's
/// vec_dot_type for F16 weights, so llama.cpp's F16 matmuls and ours see the same inputs), or quantized to Q8_0
/// blocks or Q8_K super-blocks.
/// </summary>
internal enum ActivationKind { None, Q8_0, Q8_K, F16 }

/// <summary>Whole blocks of <paramref name="src"/> to floats, as ggml's dequantize_row_* gives them; the caller has checked the lengths.</summary>
internal delegate void RowDequantizer(ReadOnlySpan<byte> src, Span<float> dst);

/// <summary>Floats to whole blocks, byte-identical to ggml's quantize_row_*_ref; the caller has checked the lengths.</summary>
internal delegate void RowQuantizer(ReadOnlySpan<float> src, Span<byte> dst);

/// <summary>Whole groups of 16 rows of [rows, rowBytes] blocks into a repacked layout at <paramref name="dst"/>.</summary>
internal unsafe delegate void RowRepacker(byte* src, long rowBytes, int rows, int cols, byte* dst);

/// <summary>
/// One row of <see cref="WeightTypes"/>: what the engine knows about one tensor type: its row dequantizer and quantizer,
/// the activation form its kernels take, its matmul row kernels per <see cref="KernelPath"/>, and its repacked layout
/// (size, repack, kernel, and the CPU check that turns it on). Block geometry stays in <see cref="GgmlTypeInfo"/>, which
/// also describes the types no entry supports, so files holding them can still be read.
/// </summary>
internal abstract unsafe class WeightType
{
    private readonly RowRepacker? _repack;
    private readonly bool _repacksHere;
    private readonly float _preScale;

    private protected WeightType(GgmlType type, ActivationKind activation, RowDequantizer? dequantize, RowQuantizer? quantize,
        RowRepacker? repack, bool layoutSupported, bool unsignedActivations, float preScale)
    {
        Type = type;
        Activation = activation;
        Dequantize = dequantize;
        Quantize = quantize;
        _repack = repack;
        _repacksHere = repack is not null && layoutSupported;
        UnsignedActivations = unsignedActivations;
        _preScale = preScale;
    }

    public GgmlType Type { get; }

    public ActivationKind Activation { get; }

    /// <summary>Null for a type that is never a weight (Q8_K, the k-quants' activation form).</summary>
    public RowDequantizer? Dequantize { get; }

    public RowQuantizer? Quantize { get; }

    /// <summary>True for a type a <see cref="WeightMatrix"/> can hold: it dequantizes and has row kernels on every path.</summary>
    public bool IsWeight => Dequantize is not null;

    /// <summary>
    /// Whether a multiply on <paramref name="path"/> reads the repacked copy: the layouts serve the AVX-512 path only,
    /// where this CPU has what the layout's kernel needs.
    /// </summary>
    public bool Repacks(KernelPath path) => path == KernelPath.Avx512 && _repacksHere;

    /// <summary>True when the repacked kernel reads the activation quants as unsigned bytes q + 128 (Q8_0x16).</summary>
    public bool UnsignedActivations { get; }

    /// <summary>
    /// The offset the Q8_0-form activation sums come multiplied by on <paramref name="path"/>, 0 for none: the AVX-512
    /// kernels of the constant-offset formats (Q4_0, Q5_0) and IQ4_NL's 16-row kernel save a multiply per column and block with it.
    /// </summary>
    public float PreScale(KernelPath path) => path == KernelPath.Avx512 ? _preScale : 0;

    /// <summary>Bytes of the repacked copy of a [rows, cols] matrix (whole groups of 16 rows only).</summary>
    public abstract long RepackedBytes(int rows, int cols);

    public void Repack(byte* src, long rowBytes, int rows, int cols, byte* dst) =>
        (_repack ?? throw new InvalidOperationException($"{Type} has no repacked layout"))(src, rowBytes, rows, cols, dst);

    /// <summary>
    /// One team member's share of a multiply on <paramref name="path"/>: the one virtual call per multiply and member,
    /// behind which the row loop is compiled for this format and path with every kernel call inlined.
    /// </summary>
    internal abstract void Share(MatMulJob job, in MatMulOperands op, int workers, KernelPath path);
}

/// <summary>A weight type whose repacked layout (or <see cref="NotRepacked"/>) is <typeparamref name="TR"/>.</summary>
internal abstract unsafe class WeightType<TR> : WeightType where TR : struct, IPackedKernel
{
    private protected WeightType(GgmlType type, ActivationKind activation, RowDequantizer? dequantize, RowQuantizer? quantize,
        RowRepacker? repack, float preScale = 0)
        : base(type, activation, dequantize, quantize, repack, TR.IsSupported, TR.UnsignedActivations, preScale)
    {
        if ((repack is null) != (typeof(TR) == typeof(NotRepacked)))
            throw new ArgumentException($"{type}: a repacked layout needs both its kernel and its repack function", nameof(repack));
    }

    public override long RepackedBytes(int rows, int cols) => (long)(rows / RowInterleave.Rows) * TR.GroupBytes(cols);
}

/// <summary>The 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): Q8_0-form activations.</summary>
internal sealed class Block32Weight<TF, TR> : WeightType<TR>
    where TF : struct, IBlock32Format
    where TR : struct, IPackedKernel
{
    public Block32Weight(GgmlType type, RowDequantizer dequantize, RowQuantizer? quantize, RowRepacker? repack = null)
        : base(type, ActivationKind.Q8_0, dequantize, quantize, repack, Block32Avx512.PreScaledOffset<TF>() ? TF.Offset : TR.SumPreScale)
    {
    }

    internal override void Share(MatMulJob job, in MatMulOperands op, int workers, KernelPath path)
    {
        switch (path)
        {
            case KernelPath.Avx512: job.Share<Block32Rows<TF, Block32Avx512>, TR>(op, workers); break;
            case KernelPath.Avx2: job.Share<Block32Rows<TF, Block32Avx2>, NotRepacked>(op, workers); break;
            case KernelPath.Vector128: job.Share<Block32Rows<TF, Block32Vector128>, NotRepacked>(op, workers); break;
            default: job.Share<Block32Rows<TF, Block32Scalar>, NotRepacked>(op, workers); break;
        }
    }
}

/// <summary>The k-quants (Q2_K .. Q6_K, 256-element super-blocks): Q8_K-form activations.</summary>
internal sealed class KQuantWeight<TF, TR> : WeightType<TR>
    where TF : struct, IKQuantFormat
    where TR : struct, IPackedKernel
{
    public KQuantWeight(GgmlType type, RowDequantizer dequantize, RowQuantizer? quantize, RowRepacker? repack = null)
        : base(type, ActivationKind.Q8_K, dequantize, quantize, repack)
    {
    }

    internal override void Share(MatMulJob job, in MatMulOperands op, int workers, KernelPath path)
    {
        switch (path)
        {
            case KernelPath.Avx512: job.Share<KQuantRows<TF, KQuantAvx512>, TR>(op, workers); break;
            case KernelPath.Avx2: job.Share<KQuantRows<TF, KQuantAvx2>, NotRepacked>(op, workers); break;
            case KernelPath.Vector128: job.Share<KQuantRows<TF, KQuantVector128>, NotRepacked>(op, workers); break;
            default: job.Share<KQuantRows<TF, KQuantScalar>, NotRepacked>(op, workers); break;
        }
    }
}

/// <summary>
/// F32, F16, BF16: f32 activations as they are; one row kernel for every path (vector unless the path is scalar), and
/// on AVX-512 the repacked layout <typeparamref name="TR"/> where one exists (F16: <see cref="F16x16"/>).
/// </summary>
internal sealed class FloatWeight<TE, TR> : WeightType<TR>
    where TE : struct, IFloatElements
    where TR : struct, IPackedKernel
{
    public FloatWeight(GgmlType type, RowDequantizer dequantize, RowQuantizer quantize, RowRepacker? repack = null)
        : base(type, type == GgmlType.F16 ? ActivationKind.F16 : ActivationKind.None, dequantize, quantize, repack)
    {
    }

    internal override void Share(MatMulJob job, in MatMulOperands op, int workers, KernelPath path)
    {
        FloatRowKernels.ForgetConvertedRows(); // this thread's cache may hold rows of an earlier multiply's weights
        if (path == KernelPath.Avx512) job.Share<FloatRows<TE>, TR>(op, workers);
        else job.Share<FloatRows<TE>, NotRepacked>(op, workers);
    }
}

/// <summary>A type that is quantized to but never held as a weight (Q8_K, the activation form of the k-quant kernels).</summary>
internal sealed class QuantizeOnlyType : WeightType<NotRepacked>
{
    public QuantizeOnlyType(GgmlType type, RowQuantizer quantize)
        : base(type, ActivationKind.None, dequantize: null, quantize, repack: null)
    {
    }

    internal override void Share(MatMulJob job, in MatMulOperands op, int workers, KernelPath path) =>
        throw new NotSupportedException($"{Type} is not a weight type");
}
