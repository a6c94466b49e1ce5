namespace Frugal.Models;

/// <summary>
/// LongRoPE (Ding et al., "LongRoPE: Extending LLM Context Window Beyond 2 Million Tokens"), as Phi-3/3.5/4-mini files
/// store it: two sets of per-dimension frequency divisors, rope_factors_short.weight for contexts within the original
/// one and rope_factors_long.weight beyond it, plus an attention factor ({arch}.rope.scaling.attn_factor, read with the
/// other scaling keys). Like llama.cpp (llama_model::get_rope_factors), the set is chosen once, by the context per
/// sequence the model runs with, not per position: a run stays with one rotation.
/// </summary>
internal static class LongRope
{
    public const string LongName = "rope_factors_long.weight", ShortName = "rope_factors_short.weight";

    /// <summary>The factor set a run of <paramref name="contextLength"/> positions per sequence uses; null when the file has neither.</summary>
    public static float[]? Factors(ModelTensors t, ModelConfig c, Presence presence, int contextLength)
    {
        int half = c.RopeDims / 2;
        bool required = presence == Presence.Required;
        // Both are read (and so checked) whichever is used: a file with only one of them is malformed.
        var longFactors = required || t.Has(LongName) || t.Has(ShortName) ? t.Vector(LongName, half) : null;
        var shortFactors = longFactors is not null ? t.Vector(ShortName, half) : null;
        if (longFactors is null) return null;
        if (longFactors.Concat(shortFactors!).Any(f => !(f > 0) || !float.IsFinite(f)))
            throw new ModelFormatException(t.File.Path, longFactors.Any(f => !(f > 0) || !float.IsFinite(f)) ? LongName : ShortName,
                "every frequency divisor must be a positive, finite number");
        return contextLength > c.RopeOriginalContextLength ? longFactors : shortFactors;
    }
}
