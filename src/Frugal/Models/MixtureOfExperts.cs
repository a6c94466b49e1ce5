using Frugal.Numerics;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// The feed-forward of a mixture-of-experts layer (Mixtral, Qwen3-MoE, OLMoE): a router (ffn_gate_inp) scores every
/// expert for each token, the top-k experts' SwiGLU feed-forwards run on it, and their outputs are summed weighted by
/// the router's probabilities (llama.cpp's build_moe_ffn with softmax gating). Each expert is a view of its slice of the
/// 3-D ffn_gate_exps / ffn_up_exps / ffn_down_exps tensors, in the stored type: a step reads only the chosen experts' bytes.
/// </summary>
internal sealed class MixtureOfExperts
{
    public required WeightMatrix Router { get; init; }   // [experts, dim] ffn_gate_inp
    public required WeightMatrix[] Gate { get; init; }   // [experts] of [expertFf, dim]
    public required WeightMatrix[] Up { get; init; }     // [experts] of [expertFf, dim]
    public required WeightMatrix[] Down { get; init; }   // [experts] of [dim, expertFf]

    /// <summary>Experts each token goes to (top-k).</summary>
    public required int Used { get; init; }

    /// <summary>Whether the top-k probabilities are divided by their sum (Mixtral, Qwen3-MoE) or used as they are (OLMoE).</summary>
    public required bool NormalizeWeights { get; init; }

    public int Count => Gate.Length;

    /// <summary>Bytes of one expert's three matrices as stored in the file (what running it on a token reads).</summary>
    public long ExpertBytes => Bytes(Gate[0]) + Bytes(Up[0]) + Bytes(Down[0]);

    /// <summary>[experts] tokens routed to each expert of this layer since the model was loaded.</summary>
    public long[] TokensRouted { get; private init; } = [];

    /// <summary>Expert bytes this layer's steps have multiplied by since load: each chosen expert once per step.</summary>
    public long ExpertBytesRead { get; private set; }

    public IEnumerable<WeightMatrix> Matrices() => [Router, .. Gate, .. Up, .. Down];

    /// <summary>
    /// Whether the layers have a mixture-of-experts feed-forward: required ones must (expert_count set), optional ones
    /// do when expert_count is set (llama: Mixtral), dense families never.
    /// </summary>
    public static bool IsPresent(ModelTensors t, ModelConfig c, TransformerParts parts)
    {
        bool declared = c.ExpertCount > 0;
        switch (parts.Experts)
        {
            case Presence.Absent when declared:
                throw new NotSupportedException($"{c.Architecture}.expert_count is {c.ExpertCount}, but {c.Architecture} models have no experts in llama.cpp");
            case Presence.Required when !declared:
                throw new ModelFormatException(t.File.Path, $"{c.Architecture}.expert_count", "metadata key is missing (a mixture-of-experts architecture needs it)");
        }
        if (declared && (c.ExpertUsedCount <= 0 || c.ExpertUsedCount > c.ExpertCount))
            throw new ModelFormatException(t.File.Path, $"{c.Architecture}.expert_used_count", $"{c.ExpertUsedCount} must be between 1 and expert_count {c.ExpertCount}");
        if (declared && !t.Has("blk.0.ffn_gate_exps.weight") && t.Has("blk.0.ffn_gate.0.weight"))
            throw new NotSupportedException($"{t.File.Path ?? "GGUF model"}: experts stored as one tensor each (blk.N.ffn_gate.E.weight, an old Mixtral conversion) are not supported; convert again to the merged ffn_*_exps layout");
        return declared;
    }

    public static MixtureOfExperts Load(ModelTensors t, string prefix, ModelConfig c, TransformerParts parts)
    {
        int dim = c.EmbeddingLength, ff = c.ExpertFeedForwardLength, experts = c.ExpertCount;
        return new MixtureOfExperts
        {
            Router = t.Matrix(prefix + "ffn_gate_inp.weight", experts, dim),
            Gate = t.ExpertMatrices(prefix + "ffn_gate_exps.weight", experts, ff, dim),
            Up = t.ExpertMatrices(prefix + "ffn_up_exps.weight", experts, ff, dim),
            Down = t.ExpertMatrices(prefix + "ffn_down_exps.weight", experts, dim, ff),
            Used = c.ExpertUsedCount,
            NormalizeWeights = parts.NormalizeExpertWeights,
            TokensRouted = new long[experts],
        };
    }

    /// <summary>
    /// Test seam (per thread): hears, for each routed token of a step (its row), how far the k-th chosen expert's
    /// probability is above the best one left out, relative to it. Near 0 the choice is a tie that the last bits of the
    /// activations can flip. Null in normal use.
    /// </summary>
    [ThreadStatic]
    internal static Action<int, float>? RoutingObserver;

    /// <summary>
    /// Picks each token's experts from the router's <paramref name="logits"/> [n, experts]: softmax over all experts,
    /// the <paramref name="k"/> largest probabilities (highest first; the lower index on a tie), optionally divided by
    /// their sum (clamped below at 2^-14 as ggml does). Writes <paramref name="chosen"/> and <paramref name="weights"/>,
    /// both [n, k]; <paramref name="probs"/> is [experts] of scratch.
    /// </summary>
    public static void Route(ReadOnlySpan<float> logits, int n, int k, bool normalize, Span<int> chosen, Span<float> weights, Span<float> probs)
    {
        int experts = probs.Length;
        for (int i = 0; i < n; i++)
        {
            Softmax.Apply(logits.Slice(i * experts, experts), probs);
            var ids = chosen.Slice(i * k, k);
            var w = weights.Slice(i * k, k);
            float sum = 0;
            for (int j = 0; j < k; j++)
            {
                int best = -1;
                for (int e = 0; e < experts; e++)
                    if (probs[e] >= 0 && (best < 0 || probs[e] > probs[best])) best = e;
                ids[j] = best;
                w[j] = probs[best];
                sum += probs[best];
                probs[best] = -1; // taken
            }
            if (RoutingObserver is { } observe)
            {
                float next = 0; // the best expert not taken (taken ones are -1)
                for (int e = 0; e < experts; e++) next = MathF.Max(next, probs[e]);
                observe(i, (w[k - 1] - next) / w[k - 1]);
            }
            if (normalize)
            {
                float scale = 1f / MathF.Max(sum, 6.103515625e-5f);
                for (int j = 0; j < k; j++) w[j] *= scale;
            }
        }
    }

    /// <summary>Counts one step of expert <paramref name="expert"/> over <paramref name="tokens"/> tokens.</summary>
    public void Record(int expert, int tokens)
    {
        TokensRouted[expert] += tokens;
        ExpertBytesRead += ExpertBytes;
    }

    private static long Bytes(WeightMatrix m) => m.Rows * m.RowBytes;
}
