namespace Frugal.Numerics.Kernels;

/// <summary>
/// One instruction-set path of the 32-element-block dot kernels: <c>result[c] = Σ_blocks w · a[col + c]</c> for
/// the <typeparamref name="TC"/> activation rows starting at <paramref name="col"/>.
/// </summary>
internal unsafe interface IBlock32Isa
{
    static abstract void Dot<TF, TC>(byte* w, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols;

    /// <summary>
    /// Two weight rows at once: row <paramref name="w0"/>'s results in result[0 .. TC), row <paramref name="w1"/>'s in
    /// result[8 .. 8 + TC), each bit-identical to what <see cref="Dot"/> gives for that row alone.
    /// </summary>
    static abstract void Dot2<TF, TC>(byte* w0, byte* w1, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols;
}

/// <summary>The scalar twin: integer block dots in plain C#, the oracle every SIMD path is tested against.</summary>
internal readonly unsafe struct Block32Scalar : IBlock32Isa
{
    public static void Dot2<TF, TC>(byte* w0, byte* w1, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        Dot<TF, TC>(w0, nb, a, col, result);
        Dot<TF, TC>(w1, nb, a, col, result + ColTile.MaxWide);
    }

    public static void Dot<TF, TC>(byte* w, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        for (int c = 0; c < TC.Count; c++)
        {
            sbyte* q = a.QsRow(col + c);
            float* s = a.ScaleRow(col + c);
            float acc = 0;
            for (int b = 0; b < nb; b++)
            {
                byte* blk = w + (nint)b * TF.Bytes;
                int isum = 0;
                for (int j = 0; j < 32; j++)
                    isum += TF.Value(blk, j) * q[b * 32 + j];
                float* sb = s + (b >> 1) * 4 + (b & 1);
                float dw = TF.D(blk);
                float mw = TF.HasMin ? TF.M(blk) : dw * TF.Offset;
                acc += dw * (isum * sb[0]) + mw * (sb[2] * 8);
            }
            result[c] = acc;
        }
    }
}
