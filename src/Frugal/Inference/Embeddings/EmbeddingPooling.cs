using System.Numerics.Tensors;
using Frugal.Gguf;

namespace Frugal.Inference.Embeddings;

/// <summary>How a sequence's per-token hidden states become one embedding (llama.cpp's pooling types).</summary>
public enum EmbeddingPooling
{
    /// <summary>The average over every token, BOS included.</summary>
    Mean = 1,

    /// <summary>The first token's state (BERT's [CLS]; BOS for a decoder).</summary>
    Cls = 2,

    /// <summary>The last token's state (decoder embedding models such as Qwen3-Embedding).</summary>
    Last = 3,
}

public static class EmbeddingPoolings
{
    public static IReadOnlyList<string> Names { get; } = ["mean", "cls", "last"];

    /// <exception cref="ArgumentException">not mean, cls or last.</exception>
    public static EmbeddingPooling Parse(string name) => name?.ToLowerInvariant() switch
    {
        "mean" => EmbeddingPooling.Mean,
        "cls" => EmbeddingPooling.Cls,
        "last" => EmbeddingPooling.Last,
        _ => throw new ArgumentException($"pooling must be mean, cls or last, got '{name}'", nameof(name)),
    };

    /// <summary>
    /// The pooling the file declares in <c>{arch}.pooling_type</c> (llama.cpp's numbering: 1 mean, 2 cls, 3 last);
    /// null when it declares none (or none/rank, which give no single vector).
    /// </summary>
    public static EmbeddingPooling? FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string? arch = file.GetString("general.architecture");
        long? type = arch is null ? null : file.GetInt($"{arch}.pooling_type");
        return type is >= 1 and <= 3 ? (EmbeddingPooling)type.Value : null;
    }

    /// <summary>Pools [tokens, dim] hidden states into one L2-normalized vector.</summary>
    public static float[] Pool(ReadOnlySpan<float> hidden, int tokens, int dim, EmbeddingPooling pooling)
    {
        if (tokens < 1 || hidden.Length < tokens * dim) throw new ArgumentException($"need {tokens} rows of {dim}", nameof(hidden));
        var result = new float[dim];
        switch (pooling)
        {
            case EmbeddingPooling.Mean:
                for (int t = 0; t < tokens; t++) TensorPrimitives.Add(result, hidden.Slice(t * dim, dim), result);
                TensorPrimitives.Multiply(result, 1f / tokens, result);
                break;
            case EmbeddingPooling.Cls:
                hidden[..dim].CopyTo(result);
                break;
            case EmbeddingPooling.Last:
                hidden.Slice((tokens - 1) * dim, dim).CopyTo(result);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "unknown pooling");
        }
        float norm = TensorPrimitives.Norm(result);
        if (norm > 0) TensorPrimitives.Multiply(result, 1f / norm, result);
        return result;
    }
}
