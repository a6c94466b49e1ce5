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
        var (experts, used) = ExpertCounts(file);
        long bytes = 0;
        foreach (var t in file.Tensors)
        {
            if (t.Dimensions.Length < 2)
                continue;
            if (t.Name == TokenEmbedding && !tied)
                continue;
            // A mixture-of-experts tensor (ffn_*_exps, [cols, rows, experts]): a token reads its k chosen experts' slices.
            if (experts > 0 && t.Dimensions.Length == 3 && t.Dimensions[2] == experts && t.Name.Contains("_exps.", StringComparison.Ordinal))
                bytes += t.ByteSize / experts * used;
            else
                bytes += t.ByteSize;
        }
        return bytes;
    }

    /// <summary>{arch}.expert_count and {arch}.expert_used_count; (0, 0) for a dense model.</summary>
    private static (long Experts, long Used) ExpertCounts(GgufFile file)
    {
        string? arch = file.Find("general.architecture")?.AsString();
        if (arch is null || file.Find($"{arch}.expert_count") is not { IsArray: false } count || file.Find($"{arch}.expert_used_count") is not { IsArray: false } used)
            return (0, 0);
        return (count.AsInt64(), used.AsInt64());
    }
}
