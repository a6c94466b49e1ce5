using Frugal.Gguf;

namespace Frugal.Inference.Benchmarking;

/// <summary>
/// How many bytes of weights one decode step reads: the roofline of decode is memory bandwidth divided by this
/// (DESIGN.md, performance model), so tokens/s times this is the bandwidth a decode step achieved.
/// </summary>
public static class WeightTraffic
{
    public const string TokenEmbedding = "token_embd.weight";
    public const string Output = "output.weight";

    /// <summary>
    /// Bytes of every weight matrix (tensor of two or more dimensions) in <paramref name="file"/>, the output
    /// projection included, except the token embedding: a decode step only gathers one row of it. With tied
    /// embeddings (no output.weight) the embedding is the output projection and is read in full, so it counts.
    /// Norm weights and biases (one dimension) are a rounding error and left out.
    /// </summary>
    public static long BytesPerDecodedToken(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        bool tied = file.FindTensor(Output) is null;
        long bytes = 0;
        foreach (var t in file.Tensors)
        {
            if (t.Dimensions.Length < 2)
                continue;
            if (t.Name == TokenEmbedding && !tied)
                continue;
            bytes += t.ByteSize;
        }
        return bytes;
    }
}
