using System.Numerics.Tensors;
using Frugal.Numerics;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>The mixture-of-experts feed-forward of a step (<see cref="MixtureOfExperts"/>).</summary>
internal sealed partial class DecoderTransformer
{
    private ExpertScratch? _expertScratch;

    /// <summary>The mixture-of-experts feed-forward of each layer that has one (its routing and byte counters).</summary>
    internal IReadOnlyList<MixtureOfExperts> ExpertLayers => [.. _w.Layers.Select(l => l.Experts).OfType<MixtureOfExperts>()];

    /// <summary>
    /// residual += Σ_j weight_j · expert_j(RMSNorm(residual)) over each token's top-k experts. Tokens are grouped by
    /// expert, so each chosen expert multiplies all its tokens of the step at once (one pass over its weights in
    /// prefill; in decode only the k chosen experts' slices are read). Experts no token chose are not touched.
    /// </summary>
    private void ExpertFeedForwardBlock(float[] ffnNorm, MixtureOfExperts moe, int n, ForwardScratch s)
    {
        var c = Config;
        int dim = c.EmbeddingLength, ff = c.ExpertFeedForwardLength, experts = moe.Count, k = moe.Used;
        var x = s.Normed.AsSpan(0, n * dim);
        RmsNorm.ApplyRows(s.Residual, ffnNorm, c.RmsNormEpsilon, x, n);
        if (_expertScratch is null || _expertScratch.Tokens < n)
            _expertScratch = new ExpertScratch(c, n);
        var es = _expertScratch;

        var logits = es.Logits.AsSpan(0, n * experts);
        moe.Router.Multiply(x, logits, n);
        var chosen = es.Chosen.AsSpan(0, n * k);
        var weights = es.Weights.AsSpan(0, n * k);
        MixtureOfExperts.Route(logits, n, k, moe.NormalizeWeights, chosen, weights, es.Probs);

        if (n == 1)
        {
            OneTokenExperts(moe, x, chosen, weights, s.Residual.AsSpan(0, dim), es);
            return;
        }

        // Counting sort of the n·k (token, slot) pairs by expert: Start[e] .. Start[e + 1] are expert e's pairs.
        var start = es.Start;
        Array.Clear(start);
        foreach (int e in chosen) start[e + 1]++;
        for (int e = 0; e < experts; e++) start[e + 1] += start[e];
        var fill = es.Fill;
        start.AsSpan(0, experts).CopyTo(fill);
        for (int p = 0; p < n * k; p++) es.Pairs[fill[chosen[p]]++] = p;

        var residual = s.Residual.AsSpan(0, n * dim);
        for (int e = 0; e < experts; e++)
        {
            int m = start[e + 1] - start[e];
            if (m == 0) continue;
            var pairs = es.Pairs.AsSpan(start[e], m);
            var input = es.Input.AsSpan(0, m * dim);
            for (int r = 0; r < m; r++)
                x.Slice(pairs[r] / k * dim, dim).CopyTo(input.Slice(r * dim, dim));
            var gate = es.Gate.AsSpan(0, m * ff);
            var up = es.Up.AsSpan(0, m * ff);
            moe.Gate[e].Multiply(input, gate, m);
            moe.Up[e].Multiply(input, up, m);
            SwiGlu.ApplyInPlace(gate, up);
            var output = es.Output.AsSpan(0, m * dim);
            moe.Down[e].Multiply(gate, output, m);
            for (int r = 0; r < m; r++)
            {
                var row = residual.Slice(pairs[r] / k * dim, dim);
                TensorPrimitives.MultiplyAdd(output.Slice(r * dim, dim), weights[pairs[r]], row, row);
            }
            moe.Record(e, m);
        }
    }

    /// <summary>
    /// A single token (a decode step of one sequence): its k experts' gate and up matrices in one step of the compute
    /// team, then their k down matrices in another (<see cref="WeightMatrix.MultiplyEach"/>), so the chosen experts'
    /// bytes are read by every thread with two barriers per layer; row for row the same kernels as the per-expert path.
    /// </summary>
    private static void OneTokenExperts(MixtureOfExperts moe, ReadOnlySpan<float> x, ReadOnlySpan<int> chosen, ReadOnlySpan<float> weights,
        Span<float> residual, ExpertScratch es)
    {
        int k = moe.Used, ff = es.ExpertFf, dim = x.Length;
        var gateUp = es.GateUpMatrices;
        var down = es.DownMatrices;
        for (int j = 0; j < k; j++)
        {
            gateUp[2 * j] = moe.Gate[chosen[j]];
            gateUp[2 * j + 1] = moe.Up[chosen[j]];
            down[j] = moe.Down[chosen[j]];
        }
        var hidden = es.GateUp.AsSpan(0, 2 * k * ff); // [k, 2, ff]: expert j's gate then its up
        WeightMatrix.MultiplyEach(gateUp.AsSpan(0, 2 * k), x, 0, hidden, 1);
        for (int j = 0; j < k; j++)
            SwiGlu.ApplyInPlace(hidden.Slice(2 * j * ff, ff), hidden.Slice((2 * j + 1) * ff, ff));
        var output = es.Output.AsSpan(0, k * dim);
        WeightMatrix.MultiplyEach(down.AsSpan(0, k), hidden, 2 * ff, output, 1);
        for (int j = 0; j < k; j++)
        {
            TensorPrimitives.MultiplyAdd(output.Slice(j * dim, dim), weights[j], residual, residual);
            moe.Record(chosen[j], 1);
        }
    }

    /// <summary>Buffers of the expert feed-forward for steps of up to <see cref="Tokens"/> tokens; grown, never shrunk.</summary>
    private sealed class ExpertScratch(ModelConfig c, int tokens)
    {
        public int Tokens { get; } = tokens;
        public float[] Logits { get; } = new float[tokens * c.ExpertCount];                 // [tokens, experts] router scores
        public float[] Probs { get; } = new float[c.ExpertCount];                           // [experts] one token's softmax
        public int[] Chosen { get; } = new int[tokens * c.ExpertUsedCount];                 // [tokens, k] expert ids
        public float[] Weights { get; } = new float[tokens * c.ExpertUsedCount];            // [tokens, k] their weights
        public int[] Start { get; } = new int[c.ExpertCount + 1];                           // [experts + 1] pair ranges
        public int[] Fill { get; } = new int[c.ExpertCount];                                // [experts] sort cursor
        public int[] Pairs { get; } = new int[tokens * c.ExpertUsedCount];                  // [tokens·k] token·k + slot, by expert
        public float[] Input { get; } = new float[tokens * c.EmbeddingLength];              // [tokens, dim] one expert's rows
        public float[] Gate { get; } = new float[tokens * c.ExpertFeedForwardLength];       // [tokens, expertFf]
        public float[] Up { get; } = new float[tokens * c.ExpertFeedForwardLength];         // [tokens, expertFf]
        public float[] Output { get; } = new float[Math.Max(tokens, c.ExpertUsedCount) * c.EmbeddingLength]; // [tokens or k, dim]
        public int ExpertFf { get; } = c.ExpertFeedForwardLength;
        public float[] GateUp { get; } = new float[2 * c.ExpertUsedCount * c.ExpertFeedForwardLength];    // [k, 2, expertFf] one token's
        public WeightMatrix[] GateUpMatrices { get; } = new WeightMatrix[2 * c.ExpertUsedCount];        // [k, 2] its experts' gate, up
        public WeightMatrix[] DownMatrices { get; } = new WeightMatrix[c.ExpertUsedCount];              // [k] their down
    }
}
