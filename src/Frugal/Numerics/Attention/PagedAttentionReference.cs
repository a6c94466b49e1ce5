namespace Frugal.Numerics.Attention;

/// <summary>
/// The scalar twin of <see cref="PagedAttention"/>, the test oracle: for every query row and head, every visible key
/// read one position at a time through the block table (dequantized as the cache stores it), a plain two-pass softmax
/// in double, and the weighted sum of values. No tiles, no online rescaling, no threads. Rotated keys are met by
/// rotating the query, as the kernel does. KIVI K/V are read one element at a time by the codec's scalar twins
/// (<see cref="KiviCodec.KeyRow"/>, <see cref="KiviCodec.ValueAt"/>), or from the block's f16 residual slot.
/// </summary>
public static unsafe class PagedAttentionReference
{
    /// <param name="scale">factor of q·k; 0 takes 1/√headDim.</param>
    /// <param name="softCap">when positive, scores become softCap · tanh(score / softCap).</param>
    /// <param name="window">when positive, the query at position p sees positions p − window + 1 .. p only.</param>
    public static void Run(ReadOnlySpan<AttentionSequence> sequences, in KvLayer layer, ReadOnlySpan<int> tables,
        ReadOnlySpan<float> q, Span<float> output, int heads, float scale = 0f, float softCap = 0f, int window = 0)
    {
        int hd = layer.HeadDim, kvHeads = layer.KvHeads, group = heads / kvHeads, qDim = heads * hd;
        var kt = new float[KvTile.Positions * hd];
        var v = new float[KvTile.Positions * hd];
        var row = new float[hd];
        double factor = scale > 0 ? scale : 1.0 / Math.Sqrt(hd);
        foreach (var seq in sequences)
            for (int i = 0; i < seq.Count; i++)
            {
                int visible = seq.Start + i + 1;
                int from = window > 0 ? Math.Max(0, visible - window) : 0;   // the first position in the window
                var keys = new double[visible][];
                var values = new double[visible][];
                fixed (float* ktp = kt, vp = v, rowp = row)
                    for (int h = 0; h < kvHeads; h++)
                    {
                        for (int p = 0; p < visible; p++)
                        {
                            int block = tables[seq.TableOffset + p / layer.BlockSize], tile = p % layer.BlockSize / KvTile.Positions, j = p % KvTile.Positions;
                            KvTile.LoadKeys(layer, block, p, h, ktp);
                            KvTile.LoadValues(layer, block, tile, h, KvTile.Positions, vp);
                            keys[p] = new double[hd];
                            values[p] = new double[hd];
                            for (int d = 0; d < hd; d++)
                            {
                                keys[p][d] = kt[d * KvTile.Positions + j];
                                values[p][d] = v[j * hd + d];
                            }
                            ReadKivi(layer, block, p, h, keys[p], values[p]);
                        }
                        for (int g = 0; g < group; g++)
                        {
                            int head = h * group + g;
                            var qh = q.Slice((seq.Row + i) * qDim + head * hd, hd).ToArray();
                            if (layer.Types.RotateKeys) WalshHadamard.Transform(qh);
                            var scores = new double[visible];
                            double max = double.NegativeInfinity;
                            for (int p = from; p < visible; p++)
                            {
                                double dot = 0;
                                for (int d = 0; d < hd; d++) dot += qh[d] * keys[p][d];
                                scores[p] = dot * factor;
                                if (softCap > 0) scores[p] = softCap * Math.Tanh(scores[p] / softCap);
                                max = Math.Max(max, scores[p]);
                            }
                            double sum = 0;
                            for (int p = from; p < visible; p++) sum += scores[p] = Math.Exp(scores[p] - max);
                            var dst = output.Slice((seq.Row + i) * qDim + head * hd, hd);
                            for (int d = 0; d < hd; d++)
                            {
                                double a = 0;
                                for (int p = from; p < visible; p++) a += scores[p] * values[p][d];
                                dst[d] = (float)(a / sum);
                            }
                        }
                    }
            }
    }

    /// <summary>Overwrites the KIVI side(s) of one position with what the scalar twins (or the f16 residual) read.</summary>
    private static void ReadKivi(in KvLayer layer, int block, int position, int head, double[] key, double[] value)
    {
        int hd = layer.HeadDim, slot = layer.ResidualSlot(block), T = KvTile.Positions, p = position % layer.BlockSize;
        if (KvElementTypes.IsKivi(layer.Types.Keys))
        {
            var row = new float[hd];
            if (slot < 0) KiviCodec.KeyRow(KvElementTypes.KiviBits(layer.Types.Keys), hd, layer.BlockSize, layer.KeySegment(block, head), p, layer.KeyBasis!, position, row);
            for (int d = 0; d < hd; d++)
                key[d] = slot >= 0 ? (double)((Half*)layer.ResidualKeySegment(slot, head))[p / T * hd * T + d * T + p % T] : row[d];
        }
        if (KvElementTypes.IsKivi(layer.Types.Values))
            for (int d = 0; d < hd; d++)
                value[d] = slot >= 0
                    ? (double)((Half*)layer.ResidualValueSegment(slot, head))[p * hd + d]
                    : KiviCodec.ValueAt(KvElementTypes.KiviBits(layer.Types.Values), hd, layer.ValueSegment(block, head) + (long)p * layer.ValueHeadBytes, d);
    }
}
