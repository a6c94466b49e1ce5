using Frugal.Gguf;
using Frugal.Models.Residency;
using Frugal.Numerics;

namespace Frugal.Models;

/// <summary>The weights of one decoder block. Matrices are [rows = out, cols = in].</summary>
internal sealed class LayerWeights
{
    public required float[] AttnNorm { get; init; }     // [dim]
    public required WeightMatrix Q { get; init; }       // [heads·headDim, dim]
    public required WeightMatrix K { get; init; }       // [kvDim, dim]
    public required WeightMatrix V { get; init; }       // [kvDim, dim]
    public required WeightMatrix Output { get; init; }  // [dim, heads·headDim]
    public float[]? QBias { get; init; }                // [heads·headDim]
    public float[]? KBias { get; init; }                // [kvDim]
    public float[]? VBias { get; init; }                // [kvDim]
    public float[]? OutputBias { get; init; }           // [dim]
    public float[]? QNorm { get; init; }                // [headDim]
    public float[]? KNorm { get; init; }                // [headDim]
    public required float[] FfnNorm { get; init; }      // [dim]
    public WeightMatrix? Gate { get; init; }            // [ff, dim]; null in a mixture-of-experts layer
    public WeightMatrix? Up { get; init; }              // [ff, dim]
    public WeightMatrix? Down { get; init; }            // [dim, ff]
    public MixtureOfExperts? Experts { get; init; }     // the feed-forward of a mixture-of-experts layer, else null
    public float[]? AttnPostNorm { get; init; }         // [dim] Gemma's post_attention_norm
    public float[]? FfnPostNorm { get; init; }          // [dim] Gemma's post_ffw_norm

    /// <summary>The same layer with each matrix replaced by <paramref name="map"/>'s (a streamed layer over a buffer).</summary>
    public LayerWeights WithMatrices(Func<WeightMatrix, WeightMatrix> map) => new()
    {
        AttnNorm = AttnNorm, Q = map(Q), K = map(K), V = map(V), Output = map(Output),
        QBias = QBias, KBias = KBias, VBias = VBias, OutputBias = OutputBias, QNorm = QNorm, KNorm = KNorm,
        FfnNorm = FfnNorm, Gate = Gate is null ? null : map(Gate), Up = Up is null ? null : map(Up), Down = Down is null ? null : map(Down),
        Experts = Experts, AttnPostNorm = AttnPostNorm, FfnPostNorm = FfnPostNorm,
    };

    public IEnumerable<WeightMatrix> Matrices() =>
        Experts is { } e ? [Q, K, V, Output, .. e.Matrices()] : [Q, K, V, Output, Gate!, Up!, Down!];
}

/// <summary>All weights of a decoder-only transformer, looked up by llama.cpp's tensor names.</summary>
internal sealed class TransformerWeights
{
    public required WeightMatrix TokenEmbedding { get; init; }  // [vocab, dim]
    public required LayerWeights[] Layers { get; init; }        // [blocks]
    public required float[] OutputNorm { get; init; }           // [dim]
    public required WeightMatrix Output { get; init; }          // [vocab, dim]; the token embedding when tied
    public float[]? RopeFreqFactors { get; init; }              // [ropeDims/2]

    /// <summary>Bytes held in kernel layouts (<see cref="PrepareKernelLayouts"/>).</summary>
    public long KernelLayoutBytes { get; private set; }

    /// <summary>Every matrix the forward pass multiplies by (the token embedding only when tied to the output).</summary>
    private IEnumerable<WeightMatrix> Multiplied() =>
        Layers.SelectMany(l => l.Matrices()).Append(Output);

    /// <summary>
    /// Repacks the matrices whose kernel on this CPU has a faster layout (<see cref="WeightMatrix.PrepareKernelLayout"/>;
    /// none when FRUGAL_REPACK=0). Returns the bytes added. Each repacked matrix's original pages are then unmapped
    /// from this process (<see cref="GgufFile.ReleaseResidentPages"/>): only the fallback paths and embedding lookups
    /// read them again, so resident memory holds the copy instead of both. Under a memory budget
    /// (<paramref name="residency"/>, which counts every matrix in its kernel layout) only the resident matrices are
    /// repacked here; streamed ones are repacked into the stream buffers as they are read.
    /// </summary>
    public long PrepareKernelLayouts(GgufFile? file, WeightResidency? residency = null)
    {
        if (!WeightMatrix.RepacksOnLoad)
            return 0;
        Action<nint, long>? release = file is null ? null : file.ReleaseResidentPages;
        foreach (var m in Resident(residency))
            KernelLayoutBytes += m.PrepareKernelLayout(release);
        return KernelLayoutBytes;
    }

    /// <summary>The multiplied matrices that stay in memory under <paramref name="residency"/> (all with none).</summary>
    private IEnumerable<WeightMatrix> Resident(WeightResidency? residency)
    {
        if (residency is null || !residency.IsStreaming) return Multiplied();
        bool outputStreams = residency.StreamedGlobals.Contains(ReferenceEquals(Output, TokenEmbedding) ? "token_embd.weight" : "output.weight");
        return Layers.Take(residency.ResidentLayerCount).SelectMany(l => l.Matrices())
            .Concat(outputStreams ? [] : [Output]);
    }

    public void ReleaseKernelLayouts()
    {
        foreach (var m in Multiplied())
            m.Dispose();
        KernelLayoutBytes = 0;
    }

    /// <param name="contextLength">context per sequence the model runs with, at most the model's: picks LongRoPE's factor set (null: the model's).</param>
    public static TransformerWeights Load(ModelTensors t, ModelConfig c, TransformerParts parts, int? contextLength = null)
    {
        int dim = c.EmbeddingLength, q = c.QueryDim, kv = c.KvDim, ff = c.FeedForwardLength, hd = c.HeadDim;
        var embedding = t.Matrix("token_embd.weight", c.VocabSize, dim);
        bool moe = MixtureOfExperts.IsPresent(t, c, parts);
        var layers = new LayerWeights[c.BlockCount];
        for (int i = 0; i < layers.Length; i++)
        {
            string p = $"blk.{i}.";
            var qkv = parts.FusedQkv
                ? t.RowRanges(p + "attn_qkv.weight", dim, q, kv, kv)
                : [t.Matrix(p + "attn_q.weight", q, dim), t.Matrix(p + "attn_k.weight", kv, dim), t.Matrix(p + "attn_v.weight", kv, dim)];
            WeightMatrix?[] gateUp = new WeightMatrix?[2];   // a mixture-of-experts layer has none
            if (!moe)
                gateUp = parts.FusedGateUp
                    ? t.RowRanges(p + "ffn_up.weight", dim, ff, ff)
                    : [t.Matrix(p + "ffn_gate.weight", ff, dim), t.Matrix(p + "ffn_up.weight", ff, dim)];
            layers[i] = new LayerWeights
            {
                AttnNorm = t.Vector(p + "attn_norm.weight", dim),
                Q = qkv[0],
                K = qkv[1],
                V = qkv[2],
                Output = t.Matrix(p + "attn_output.weight", dim, q),
                QBias = Vector(t, parts.QkvBias, p + "attn_q.bias", q),
                KBias = Vector(t, parts.QkvBias, p + "attn_k.bias", kv),
                VBias = Vector(t, parts.QkvBias, p + "attn_v.bias", kv),
                OutputBias = Vector(t, parts.OutputBias, p + "attn_output.bias", dim),
                QNorm = Vector(t, parts.QkNorm, p + "attn_q_norm.weight", parts.QkNormSpan == QkNormSpan.Head ? hd : q),
                KNorm = Vector(t, parts.QkNorm, p + "attn_k_norm.weight", parts.QkNormSpan == QkNormSpan.Head ? hd : kv),
                FfnNorm = t.Vector(p + "ffn_norm.weight", dim),
                Gate = gateUp[0],
                Up = gateUp[1],
                Down = moe ? null : t.Matrix(p + "ffn_down.weight", dim, ff),
                Experts = moe ? MixtureOfExperts.Load(t, p, c, parts) : null,
                AttnPostNorm = Vector(t, parts.PostNorms, p + "post_attention_norm.weight", dim),
                FfnPostNorm = Vector(t, parts.PostNorms, p + "post_ffw_norm.weight", dim),
            };
        }
        var weights = new TransformerWeights
        {
            TokenEmbedding = embedding,
            Layers = layers,
            OutputNorm = t.Vector("output_norm.weight", dim),
            Output = t.OptionalMatrix("output.weight", c.VocabSize, dim) ?? embedding,
            RopeFreqFactors = parts.LongRopeFactors != Presence.Absent
                ? LongRope.Factors(t, c, parts.LongRopeFactors, Math.Min(contextLength ?? c.ContextLength, c.ContextLength))
                : Vector(t, parts.RopeFreqs, "rope_freqs.weight", c.RopeDims / 2),
        };
        t.EnsureAllUsed();
        return weights;
    }

    private static float[]? Vector(ModelTensors t, Presence presence, string name, int length) => presence switch
    {
        Presence.Required => t.Vector(name, length),
        Presence.Optional => t.OptionalVector(name, length),
        _ => null,
    };
}
