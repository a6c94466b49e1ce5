namespace Frugal.Inference.Sampling;

/// <summary>
/// llama.cpp's penalties sampler: for each distinct token among the recent ones, a repetition penalty that divides
/// a positive logit and multiplies a negative one (CTRL, Keskar et al. 2019), then frequency and presence
/// penalties (OpenAI) subtracted as count * frequency + presence.
/// </summary>
public static class RepetitionPenalties
{
    /// <param name="logits">[vocab] logits indexed by token id, changed in place.</param>
    /// <param name="recent">the tokens the penalties look at (the last N).</param>
    /// <param name="counts">[vocab] scratch, all zero on entry and left all zero on return.</param>
    public static void Apply(Span<float> logits, ReadOnlySpan<int> recent, Span<int> counts,
        float repeat, float frequency, float presence)
    {
        if (counts.Length < logits.Length)
            throw new ArgumentException($"counts scratch has {counts.Length} entries, the vocabulary {logits.Length}", nameof(counts));
        foreach (int t in recent)
            if ((uint)t < (uint)logits.Length) counts[t]++;
        foreach (int t in recent)
        {
            if ((uint)t >= (uint)logits.Length) continue;
            int count = counts[t];
            if (count == 0) continue; // already penalized: each distinct token once
            counts[t] = 0;
            float l = logits[t];
            l = l <= 0 ? l * repeat : l / repeat;
            logits[t] = l - count * frequency - presence;
        }
    }
}
