namespace Frugal.Numerics.Ops;

/// <summary>How rotary position embedding pairs the dimensions of a head.</summary>
public enum RopeStyle
{
    /// <summary>GPT-J / llama.cpp "normal": rotates adjacent pairs (x[2i], x[2i+1]).</summary>
    Normal,

    /// <summary>GPT-NeoX: rotates (x[i], x[i + d/2]) across the two halves.</summary>
    NeoX,
}

/// <summary>Rotary position embedding (Su et al., RoFormer), computed the way ggml_rope_ext is, YaRN included.</summary>
public static class Rope
{
    /// <summary>
    /// The rotation of one position under <paramref name="spec"/>: <paramref name="cos"/> and <paramref name="sin"/> are
    /// [Dims/2], each times <see cref="RopeSpec.Magnitude"/> (1 unless the file asks for an attention factor or YaRN).
    /// </summary>
    public static void Angles(int position, in RopeSpec spec, Span<float> cos, Span<float> sin) =>
        Angles(position, spec.Dims, spec.FreqBase, spec.FreqScale, spec.FreqFactors, spec.Yarn, spec.Magnitude, cos, sin);

    /// <summary>
    /// The rotation angles of one position: <paramref name="cos"/> and <paramref name="sin"/> are [ropeDims/2].
    /// theta_i = freqScale · position · base^(-2i/ropeDims) / freqFactors[i]; freqFactors is the optional
    /// rope_freqs tensor (Llama 3.1 frequency scaling), empty when absent.
    /// </summary>
    public static void Angles(int position, int ropeDims, float freqBase, float freqScale, ReadOnlySpan<float> freqFactors,
        Span<float> cos, Span<float> sin) =>
        Angles(position, ropeDims, freqBase, freqScale, freqFactors, null, 1f, cos, sin);

    private static void Angles(int position, int ropeDims, float freqBase, float freqScale, ReadOnlySpan<float> freqFactors,
        RopeYarn? yarn, float magnitude, Span<float> cos, Span<float> sin)
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
        bool blend = yarn is { ExtFactor: not 0f };
        var y = yarn.GetValueOrDefault();
        for (int i = 0; i < half; i++)
        {
            float factor = freqFactors.IsEmpty ? 1.0f : freqFactors[i];
            float extrapolated = theta / factor;
            float angle = freqScale * extrapolated;
            if (blend)
            {
                float mix = y.Mix(i);
                angle = angle * (1 - mix) + extrapolated * mix;
            }
            cos[i] = MathF.Cos(angle) * magnitude;
            sin[i] = MathF.Sin(angle) * magnitude;
            theta *= thetaScale;
        }
    }

    /// <summary>
    /// The angle pair <paramref name="pair"/> turns per position under <paramref name="spec"/> (YaRN's blend included),
    /// in double: for tables that rotate by position deltas rather than call <see cref="Angles(int, in RopeSpec, Span{float}, Span{float})"/>.
    /// </summary>
    public static double Frequency(in RopeSpec spec, int pair)
    {
        double factor = spec.FreqFactors is { Length: > 0 } f ? f[pair] : 1.0;
        double extrapolated = Math.Pow(spec.FreqBase, -2.0 * pair / spec.Dims) / factor;
        double interpolated = spec.FreqScale * extrapolated;
        if (spec.Yarn is not { ExtFactor: not 0f } y) return interpolated;
        double mix = y.Mix(pair);
        return interpolated * (1 - mix) + extrapolated * mix;
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
