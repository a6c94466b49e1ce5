using System.Text.Json.Serialization;

namespace Frugal.Train.Model;

/// <summary>Hyper-parameters of a Llama-architecture model (RMSNorm, RoPE, GQA, SwiGLU, tied embeddings).</summary>
public sealed record ModelShape(
    [property: JsonPropertyName("dim")] int Dim,
    [property: JsonPropertyName("layers")] int Layers,
    [property: JsonPropertyName("heads")] int Heads,
    [property: JsonPropertyName("kv_heads")] int KvHeads,
    [property: JsonPropertyName("ffn_dim")] int FfnDim,
    [property: JsonPropertyName("vocab")] int Vocab,
    [property: JsonPropertyName("context")] int Context,
    [property: JsonPropertyName("rope_base")] float RopeBase = 10000f,
    [property: JsonPropertyName("norm_eps")] float NormEps = 1e-5f)
{
    [JsonIgnore] public int HeadDim => Dim / Heads;
    [JsonIgnore] public int KvDim => KvHeads * HeadDim;

    public void Validate()
    {
        if (Dim <= 0 || Layers <= 0 || Heads <= 0 || KvHeads <= 0 || FfnDim <= 0 || Vocab <= 0 || Context <= 0)
            throw new ArgumentException($"model shape has a non-positive size: {this}");
        if (Dim % Heads != 0) throw new ArgumentException($"dim {Dim} is not a multiple of heads {Heads}");
        if (Heads % KvHeads != 0) throw new ArgumentException($"heads {Heads} is not a multiple of kv_heads {KvHeads}");
        if (HeadDim % 2 != 0) throw new ArgumentException($"head dim {HeadDim} must be even for RoPE");
    }
}

/// <summary>Where each tensor lives in the flat parameter vector. Weights are [out, in] row-major, as GGUF stores them.</summary>
public sealed class ParameterLayout
{
    public ParameterLayout(ModelShape s)
    {
        s.Validate();
        Shape = s;
        int o = 0;
        int Take(int n) { int at = o; o += n; return at; }
        TokenEmbedding = Take(s.Vocab * s.Dim);
        Layers = new LayerOffsets[s.Layers];
        for (int l = 0; l < s.Layers; l++)
            Layers[l] = new LayerOffsets(
                AttnNorm: Take(s.Dim), Wq: Take(s.Dim * s.Dim), Wk: Take(s.KvDim * s.Dim), Wv: Take(s.KvDim * s.Dim),
                Wo: Take(s.Dim * s.Dim), FfnNorm: Take(s.Dim), Wgate: Take(s.FfnDim * s.Dim), Wup: Take(s.FfnDim * s.Dim),
                Wdown: Take(s.Dim * s.FfnDim));
        OutputNorm = Take(s.Dim);
        Count = o;
    }

    public ModelShape Shape { get; }
    public int TokenEmbedding { get; }        // [vocab, dim]
    public LayerOffsets[] Layers { get; }
    public int OutputNorm { get; }            // [dim]
    public int Count { get; }

    /// <summary>Every tensor with its GGUF name, offset and [out, in] size (norms have out = 1).</summary>
    public IEnumerable<(string Name, int Offset, int Rows, int Cols)> Tensors()
    {
        var s = Shape;
        yield return ("token_embd.weight", TokenEmbedding, s.Vocab, s.Dim);
        for (int l = 0; l < s.Layers; l++)
        {
            var L = Layers[l];
            yield return ($"blk.{l}.attn_norm.weight", L.AttnNorm, 1, s.Dim);
            yield return ($"blk.{l}.attn_q.weight", L.Wq, s.Dim, s.Dim);
            yield return ($"blk.{l}.attn_k.weight", L.Wk, s.KvDim, s.Dim);
            yield return ($"blk.{l}.attn_v.weight", L.Wv, s.KvDim, s.Dim);
            yield return ($"blk.{l}.attn_output.weight", L.Wo, s.Dim, s.Dim);
            yield return ($"blk.{l}.ffn_norm.weight", L.FfnNorm, 1, s.Dim);
            yield return ($"blk.{l}.ffn_gate.weight", L.Wgate, s.FfnDim, s.Dim);
            yield return ($"blk.{l}.ffn_up.weight", L.Wup, s.FfnDim, s.Dim);
            yield return ($"blk.{l}.ffn_down.weight", L.Wdown, s.Dim, s.FfnDim);
        }
        yield return ("output_norm.weight", OutputNorm, 1, s.Dim);
    }
}

public readonly record struct LayerOffsets(int AttnNorm, int Wq, int Wk, int Wv, int Wo, int FfnNorm, int Wgate, int Wup, int Wdown);
