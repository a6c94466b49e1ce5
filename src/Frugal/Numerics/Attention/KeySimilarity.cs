using System.Numerics.Tensors;

namespace Frugal.Numerics.Attention;

/// <summary>
/// KeyDiff's eviction score (Park et al. 2025, "KeyDiff: Key Similarity-Based KV Cache Eviction"): the cosine
/// similarity of each stored key to the mean key of the sequence. Tokens whose keys point where most keys point carry
/// the least distinct information; those are evicted first. Needs no attention scores, so it works with the tiled
/// kernel. Keys stored Walsh-Hadamard rotated are scored as stored: an orthonormal rotation keeps every cosine.
/// </summary>
public static class KeySimilarity
{
    /// <summary>
    /// Adds, for each of the first <paramref name="count"/> slots of a sequence, the cosine similarity of its key to the
    /// mean key, for every KV head of one layer, into <paramref name="scores"/> [count].
    /// <paramref name="scratch"/> holds at least headDim·17 floats.
    /// </summary>
    public static unsafe void AddLayer(in KvLayer layer, IReadOnlyList<int> blockTable, int count, Span<float> scores, Span<float> scratch)
    {
        int hd = layer.HeadDim, bs = layer.BlockSize, p = KvTile.Positions;
        if (scratch.Length < hd * (p + 1)) throw new ArgumentException($"scratch needs {hd * (p + 1)} floats", nameof(scratch));
        var tile = scratch[..(hd * p)];        // [headDim][16]
        var mean = scratch.Slice(hd * p, hd);  // [headDim]
        int tiles = (count + p - 1) / p;
        for (int h = 0; h < layer.KvHeads; h++)
        {
            mean.Clear();
            for (int t = 0; t < tiles; t++)
            {
                int valid = Math.Min(p, count - t * p);
                Load(layer, blockTable, t, h, bs, tile);
                for (int d = 0; d < hd; d++)
                    mean[d] += TensorPrimitives.Sum(tile.Slice(d * p, valid));
            }
            TensorPrimitives.Multiply(mean, 1f / count, mean);
            float meanNorm = TensorPrimitives.Norm(mean);
            for (int t = 0; t < tiles; t++)
            {
                int valid = Math.Min(p, count - t * p);
                Load(layer, blockTable, t, h, bs, tile);
                for (int j = 0; j < valid; j++)
                {
                    float dot = 0, norm = 0;
                    for (int d = 0; d < hd; d++)
                    {
                        float k = tile[d * p + j];
                        dot += k * mean[d];
                        norm += k * k;
                    }
                    float denominator = MathF.Sqrt(norm) * meanNorm;
                    scores[t * p + j] += denominator > 0 ? dot / denominator : 0;
                }
            }
        }
    }

    private static unsafe void Load(in KvLayer layer, IReadOnlyList<int> blockTable, int tile, int head, int blockSize, Span<float> into)
    {
        int position = tile * KvTile.Positions;
        fixed (float* kt = into)
            KvTile.LoadKeys(layer, blockTable[position / blockSize], position, head, kt);
    }
}
