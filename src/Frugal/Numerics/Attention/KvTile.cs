using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

using Frugal.Numerics.Kernels;

namespace Frugal.Numerics.Attention;

/// <summary>
/// Writes one position's K/V head rows into a <see cref="KvLayer"/> and reads 16-position tiles back as floats for
/// the attention kernel: keys transposed ([headDim][16]: element d of the tile's 16 keys is one run), values as rows
/// ([16][headDim]). f16 is converted exactly; q8_0/q4_0 use ggml's block quantizer and dequantizer, so the cache holds
/// the same bytes llama.cpp's would. KIVI types are written to the block's f16 residual slot (the caller opens it,
/// <see cref="KiviResidual"/>) and read from it while the block has one, else from the codes (<see cref="KiviTile"/>).
/// </summary>
public static unsafe class KvTile
{
    /// <summary>Positions per tile: one 512-bit vector of f32 scores.</summary>
    public const int Positions = 16;

    /// <summary>
    /// Stores the key head row <paramref name="src"/> [headDim] of the position in <paramref name="slot"/> of a block;
    /// rotated first (<see cref="WalshHadamard"/>) where the layer's types say so.
    /// </summary>
    public static void StoreKey(in KvLayer layer, int block, int slot, int head, ReadOnlySpan<float> src)
    {
        int hd = layer.HeadDim;
        if (layer.Types.RotateKeys)
        {
            Span<float> rotated = stackalloc float[hd];
            src[..hd].CopyTo(rotated);
            WalshHadamard.Transform(rotated);
            StoreKeyRow(layer, block, slot, head, rotated);
        }
        else
            StoreKeyRow(layer, block, slot, head, src);
    }

    private static void StoreKeyRow(in KvLayer layer, int block, int slot, int head, ReadOnlySpan<float> src)
    {
        int hd = layer.HeadDim;
        byte* seg = layer.KeySegment(block, head);
        if (KvElementTypes.IsKivi(layer.Types.Keys))
        {
            var tile = (Half*)(layer.ResidualKeySegment(OpenSlot(layer, block), head) + (long)(slot / Positions) * Positions * hd * 2);
            ScatterHalves(src[..hd], tile + slot % Positions);
        }
        else if (layer.Types.Keys == KvElementType.F16)
        {
            // Dimension-major inside the tile: element d of tile slot j at [d·16 + j].
            var tile = (Half*)(seg + (long)(slot / Positions) * Positions * layer.KeyHeadBytes);
            ScatterHalves(src[..hd], tile + slot % Positions);
        }
        else if (layer.Types.Keys == KvElementType.F32)
        {
            var tile = (float*)(seg + (long)(slot / Positions) * Positions * layer.KeyHeadBytes);
            int j = slot % Positions;
            for (int d = 0; d < hd; d++)
                tile[d * Positions + j] = src[d];
        }
        else
            KvBlockTile.StoreKey(layer.Types.Keys, seg + (long)(slot / Positions) * Positions * layer.KeyHeadBytes, slot % Positions, src[..hd]);
    }

    /// <summary>
    /// <paramref name="src"/> as fp16 at dst[d·16] (one key's column of a dimension-major tile): converted as one vector
    /// span (the same rounding as a cast per element, at a fraction of the cost), then scattered.
    /// </summary>
    private static void ScatterHalves(ReadOnlySpan<float> src, Half* dst)
    {
        Span<Half> halves = stackalloc Half[src.Length];
        TensorPrimitives.ConvertToHalf(src, halves);
        for (int d = 0; d < halves.Length; d++)
            dst[d * Positions] = halves[d];
    }

    /// <summary>Stores the value head row <paramref name="src"/> [headDim] of the position in <paramref name="slot"/> of a block.</summary>
    public static void StoreValue(in KvLayer layer, int block, int slot, int head, ReadOnlySpan<float> src)
    {
        int hd = layer.HeadDim;
        byte* row = layer.ValueSegment(block, head) + (long)slot * layer.ValueHeadBytes;
        if (KvElementTypes.IsKivi(layer.Types.Values))
            TensorPrimitives.ConvertToHalf(src[..hd], new Span<Half>(layer.ResidualValueSegment(OpenSlot(layer, block), head) + (long)slot * hd * 2, hd));
        else if (layer.Types.Values == KvElementType.F16)
            TensorPrimitives.ConvertToHalf(src[..hd], new Span<Half>(row, hd));
        else if (layer.Types.Values == KvElementType.F32)
            src[..hd].CopyTo(new Span<float>(row, hd));
        else
            Quantize.Row(KvElementTypes.GgmlTypeOf(layer.Types.Values), src[..hd], new Span<byte>(row, layer.ValueHeadBytes));
    }

    private static int OpenSlot(in KvLayer layer, int block)
    {
        int s = layer.ResidualSlot(block);
        if (s < 0) throw new InvalidOperationException($"block {block} has no residual slot open: KIVI K/V are written through KvLayerMemory.Write");
        return s;
    }

    /// <summary>
    /// Keys of the tile holding sequence position <paramref name="position"/> (in <paramref name="block"/>) as
    /// kt[d·16 + j] (key j, element d). Slots at and past the tile's valid positions hold whatever the cache holds
    /// there: callers mask those scores.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadKeys(in KvLayer layer, int block, int position, int head, float* kt)
    {
        int hd = layer.HeadDim, tile = position % layer.BlockSize / Positions;
        if (KvElementTypes.IsKivi(layer.Types.Keys))
        {
            int s = layer.ResidualSlot(block);
            if (s >= 0) HalfConversion.ToSingle((Half*)(layer.ResidualKeySegment(s, head) + (long)tile * Positions * hd * 2), kt, hd * Positions);
            else
            {
                KiviTile.LoadKeys(KvElementTypes.KiviBits(layer.Types.Keys), layer.KeySegment(block, head), tile, hd, layer.BlockSize, kt);
                layer.KeyBasis!.ToModel(kt, position - position % Positions);
            }
            return;
        }
        byte* at = layer.KeySegment(block, head) + (long)tile * Positions * layer.KeyHeadBytes;
        if (layer.Types.Keys == KvElementType.F16)
        {
            HalfConversion.ToSingle((Half*)at, kt, hd * Positions);
            return;
        }
        if (layer.Types.Keys == KvElementType.F32)
        {
            Buffer.MemoryCopy(at, kt, hd * Positions * sizeof(float), hd * Positions * sizeof(float));
            return;
        }
        KvBlockTile.LoadKeys(layer.Types.Keys, at, hd, kt);
    }

    /// <summary>Values of the first <paramref name="valid"/> positions of a tile as rows v[j·headDim + d].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadValues(in KvLayer layer, int block, int tile, int head, int valid, float* v)
    {
        int hd = layer.HeadDim;
        if (KvElementTypes.IsKivi(layer.Types.Values))
        {
            int s = layer.ResidualSlot(block);
            if (s >= 0) HalfConversion.ToSingle((Half*)(layer.ResidualValueSegment(s, head) + (long)tile * Positions * hd * 2), v, hd * valid);
            else KiviTile.LoadValues(KvElementTypes.KiviBits(layer.Types.Values), layer.ValueSegment(block, head), tile, hd, valid, v);
            return;
        }
        byte* at = layer.ValueSegment(block, head) + (long)tile * Positions * layer.ValueHeadBytes;
        if (layer.Types.Values == KvElementType.F16)
        {
            HalfConversion.ToSingle((Half*)at, v, hd * valid);
            return;
        }
        if (layer.Types.Values == KvElementType.F32)
        {
            Buffer.MemoryCopy(at, v, hd * valid * sizeof(float), hd * valid * sizeof(float));
            return;
        }
        for (int j = 0; j < valid; j++)
            KvBlockTile.LoadRow(layer.Types.Values, at + (long)j * layer.ValueHeadBytes, hd, v + (long)j * hd);
    }
}
