namespace Frugal.Numerics.Kernels;

/// <summary>What the row loop of <see cref="MatMulJob"/> needs to know about one (format, path) pair.</summary>
internal unsafe interface IRowKernel
{
    /// <summary>Dots weight row <paramref name="w"/> with activation rows col .. col + TC.Count - 1.</summary>
    static abstract void Dot<TC>(byte* w, in MatMulOperands op, int col, float* result) where TC : struct, ICols;

    /// <summary>Rows <paramref name="w0"/> and <paramref name="w1"/>: results in result[0 ..] and result[8 ..], as two Dot calls give.</summary>
    static abstract void Dot2<TC>(byte* w0, byte* w1, in MatMulOperands op, int col, float* result) where TC : struct, ICols;
}

/// <summary>The activations and shape one multiply works on, shared read-only by all team members.</summary>
internal readonly unsafe struct MatMulOperands
{
    public readonly QuantizedRows A;
    public readonly float* X;      // [n, Cols] f32 activations (float weight types read these directly)
    public readonly int Cols;
    public readonly bool Simd;

    public MatMulOperands(QuantizedRows a, float* x, int cols, bool simd)
    {
        A = a;
        X = x;
        Cols = cols;
        Simd = simd;
    }
}

internal readonly unsafe struct Block32Rows<TF, TIsa> : IRowKernel
    where TF : struct, IBlock32Format
    where TIsa : struct, IBlock32Isa
{
    public static void Dot<TC>(byte* w, in MatMulOperands op, int col, float* result) where TC : struct, ICols =>
        TIsa.Dot<TF, TC>(w, op.Cols / 32, op.A, col, result);

    public static void Dot2<TC>(byte* w0, byte* w1, in MatMulOperands op, int col, float* result) where TC : struct, ICols =>
        TIsa.Dot2<TF, TC>(w0, w1, op.Cols / 32, op.A, col, result);
}

internal readonly unsafe struct KQuantRows<TF, TIsa> : IRowKernel
    where TF : struct, IKQuantFormat
    where TIsa : struct, IKQuantIsa
{
    public static void Dot<TC>(byte* w, in MatMulOperands op, int col, float* result) where TC : struct, ICols =>
        TIsa.Dot<TF, TC>(w, op.Cols / 256, op.A, col, result);

    public static void Dot2<TC>(byte* w0, byte* w1, in MatMulOperands op, int col, float* result) where TC : struct, ICols
    {
        Dot<TC>(w0, op, col, result);
        Dot<TC>(w1, op, col, result + ColTile.MaxWide);
    }
}

internal readonly unsafe struct FloatRows<TE> : IRowKernel where TE : struct, IFloatElements
{
    public static void Dot<TC>(byte* w, in MatMulOperands op, int col, float* result) where TC : struct, ICols =>
        FloatRowKernels.Dot<TE, TC>(w, op.Cols, op.X, op.Cols, col, result, op.Simd);

    public static void Dot2<TC>(byte* w0, byte* w1, in MatMulOperands op, int col, float* result) where TC : struct, ICols
    {
        Dot<TC>(w0, op, col, result);
        Dot<TC>(w1, op, col, result + ColTile.MaxWide);
    }
}
