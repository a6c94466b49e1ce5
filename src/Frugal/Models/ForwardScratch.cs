namespace Frugal.Models;

/// <summary>
/// Activation buffers of one forward step over up to <see cref="Tokens"/> tokens, allocated once and reused
/// (the RunState of llama2.c). 
/// </summary>
internal sealed class ForwardScratch
{
    public ForwardScratch(ModelConfig c, int tokens)
    {
        Tokens = tokens;
        Residual = new float[tokens * c.EmbeddingLength];
        Normed = new float[tokens * c.EmbeddingLength];
        Queries = new float[tokens * c.QueryDim];
        Attended = new float[tokens * c.QueryDim];
        Projected = new float[tokens * c.EmbeddingLength];
        Gate = new float[tokens * c.FeedForwardLength];
        Up = new float[tokens * c.FeedForwardLength];
        Cos = new float[tokens * (c.RopeDims / 2)];
        Sin = new float[tokens * (c.RopeDims / 2)];
        // Layers that rotate with their own base (Gemma 3's local layers) take their angles from a second table.
        CosLocal = c.HasLayerRope ? new float[tokens * (c.RopeDims / 2)] : Cos;
        SinLocal = c.HasLayerRope ? new float[tokens * (c.RopeDims / 2)] : Sin;
    }

    /// <summary>Bytes of the buffers above for a step of <paramref name="tokens"/> tokens (what a plan adds for them).</summary>
    public static long BytesFor(ModelConfig c, int tokens) =>
        4L * tokens * (3L * c.EmbeddingLength + 2L * c.QueryDim + 2L * c.FeedForwardLength + (c.HasLayerRope ? 4L : 2L) * (c.RopeDims / 2));

    /// <summary>Most tokens one step can hold.</summary>
    public int Tokens { get; }

    public float[] Residual { get; }   // [tokens, dim]: the residual stream
    public float[] Normed { get; }     // [tokens, dim]: RMSNorm of the residual stream
    public float[] Queries { get; }    // [tokens, heads·headDim]
    public float[] Attended { get; }   // [tokens, heads·headDim]: attention output before attn_output
    public float[] Projected { get; }  // [tokens, dim]: attn_output / ffn_down result, added to the residual
    public float[] Gate { get; }       // [tokens, ff]
    public float[] Up { get; }         // [tokens, ff]
    public float[] Cos { get; }        // [tokens, ropeDims/2]
    public float[] Sin { get; }        // [tokens, ropeDims/2]
    public float[] CosLocal { get; }   // [tokens, ropeDims/2] of the sliding-window layers' RoPE; Cos when the same
    public float[] SinLocal { get; }   // [tokens, ropeDims/2]; Sin when the same
}
