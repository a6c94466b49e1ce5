namespace Frugal.Numerics.Ops;

/// <summary>
/// YaRN (Peng et al., "YaRN: Efficient Context Window Extension of Large Language Models"): per rotary pair, a blend of
/// the interpolated angle (position · freqScale) and the original one, by a ramp over the pairs between the correction
/// dimensions <see cref="CorrLow"/> and <see cref="CorrHigh"/>; the attention magnitude grows by 1 + 0.1·ln(factor).
/// Values as ggml's rope_yarn and ggml_rope_yarn_corr_dims compute them, in float.
/// </summary>
/// <param name="ExtFactor">weight of the ramp (llama.cpp's yarn_ext_factor: 1 for YaRN files); 0 turns YaRN off.</param>
public readonly record struct RopeYarn(float ExtFactor, float CorrLow, float CorrHigh)
{
    /// <summary>llama.cpp's defaults for the rotations per original context at which the ramp starts and ends.</summary>
    public const float DefaultBetaFast = 32f, DefaultBetaSlow = 1f;

    /// <summary>The correction dimensions of <paramref name="ropeDims"/> rotated dimensions trained on <paramref name="originalContext"/> positions.</summary>
    public static RopeYarn For(int ropeDims, int originalContext, float freqBase, float extFactor = 1f,
        float betaFast = DefaultBetaFast, float betaSlow = DefaultBetaSlow)
    {
        if (ropeDims <= 0 || ropeDims % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(ropeDims), $"rope dimension count must be positive and even, got {ropeDims}");
        if (originalContext <= 0)
            throw new ArgumentOutOfRangeException(nameof(originalContext), $"YaRN needs a positive original context length, got {originalContext}");
        float start = MathF.Floor(CorrDim(ropeDims, originalContext, betaFast, freqBase));
        float end = MathF.Ceiling(CorrDim(ropeDims, originalContext, betaSlow, freqBase));
        return new RopeYarn(extFactor, MathF.Max(0, start), MathF.Min(ropeDims - 1, end));
    }

    /// <summary>The dimension whose wavelength fits <paramref name="rotations"/> times into the original context.</summary>
    private static float CorrDim(int dims, int originalContext, float rotations, float freqBase) =>
        dims * MathF.Log(originalContext / (rotations * 2 * MathF.PI)) / (2 * MathF.Log(freqBase));

    /// <summary>How much of pair <paramref name="pair"/>'s angle is the original (extrapolated) one: 1 below CorrLow, 0 above CorrHigh.</summary>
    public float Mix(int pair)
    {
        float y = (pair - CorrLow) / MathF.Max(0.001f, CorrHigh - CorrLow);
        return (1 - MathF.Min(1, MathF.Max(0, y))) * ExtFactor;
    }

    /// <summary>ggml's magnitude correction for interpolation by <paramref name="freqScale"/> (applied when ExtFactor is not 0).</summary>
    public static float MagnitudeFor(float freqScale) => 1.0f + 0.1f * MathF.Log(1.0f / freqScale);
}
