namespace Frugal.Numerics.Ops;

/// <summary>How rotary position embedding pairs the dimensions of a head.</summary>
public enum RopeStyle
{
    /// <summary>GPT-J / llama.cpp "normal": rotates adjacent pairs (x[2i], x[2i+1]).</summary>
    Normal,

    /// <summary>GPT-NeoX: rotates (x[i], x[i + d/2]) across the two halves.</summary>
    NeoX,
}

/// <summary>Rotary position embedding (Su et al., RoFormer), computed the way ggml_rope_ext is without YaRN.</summary>
public static class Rope
{
    /// <summary>
    /// The rotation angles of one position: <paramref name="cos"/> and <paramref name="sin"/> are [ropeDims/2].
    /// theta_i = freqScale · position · base^(-2i/ropeDims) / freqFactors[i]; freqFactors is the optional
    /// rope_freqs tensor (Llama 3.1 frequency scaling), empty when absent.
    /// </summary>
    public static void Angles(int position, int ropeDims, float freqBase, float freqScale, ReadOnlySpan<float> freqFactors,
        Span<float> cos, Span<float> sin)
    {
        int half = ropeDims / 2;
        if (ropeDims <= 0 || ropeDims % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(ropeDims), $"rope dimension count must be positive and even, got {ropeDims}");
        if (cos.Length < half || sin.Length < half)
            throw new ArgumentException($"{ropeDims} rope dimensions need cos and sin of {half} elements");
        if (!freqFactors.IsEmpty && freqFactors.Length < half)
            throw new ArgumentException($"rope frequency factors hold {freqFactors.Length} values, {half} needed", nameof(freqFactors));
        // Same recurrence as ggml's rope cache (theta *= theta_scale in float) so angles agree to the last bit.
        float thetaScale = MathF.Pow(freqBase, -2.0f / ropeDims);
        float theta = position;
        for (int i = 0; i < half; i++)
        {
            float factor = freqFactors.IsEmpty ? 1.0f : freqFactors[i];
            float angle = freqScale * (theta / factor);
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
            theta *= thetaScale;
        }
    }

    /// <summary>
    /// Rotates the first 2·cos.Length dimensions of one head in place; the rest (partial rotary) pass through.
    /// </summary>
    public static void Apply(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, RopeStyle style)
    {
        int half = cos.Length;
        if (sin.Length != half || head.Length < 2 * half)
            throw new ArgumentException($"a head of {head.Length} cannot take {2 * half} rotary dimensions (sin: {sin.Length})");
        if (style == RopeStyle.Normal)
        {
            for (int i = 0; i < half; i++)
            {
                float x0 = head[2 * i], x1 = head[2 * i + 1];
                head[2 * i] = x0 * cos[i] - x1 * sin[i];
                head[2 * i + 1] = x0 * sin[i] + x1 * cos[i];
            }
        }
        else
        {
            for (int i = 0; i < half; i++)
            {
                float x0 = head[i], x1 = head[i + half];
                head[i] = x0 * cos[i] - x1 * sin[i];
                head[i + half] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
