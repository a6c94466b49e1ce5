namespace Frugal.Numerics.Ops;

/// <summary>
/// How a model rotates its keys by position (what <see cref="Rope"/> takes), for stores that undo it. <see cref="Yarn"/>:
/// YaRN's blend of the angles (null: none). <see cref="Magnitude"/>: the factor ggml_rope_ext multiplies cos and sin by
/// (the file's attention factor, times YaRN's 1 + 0.1·ln(factor)); a rotation by a position delta leaves it out.
/// </summary>
public readonly record struct RopeSpec(RopeStyle Style, int Dims, float FreqBase, float FreqScale, float[]? FreqFactors = null,
    RopeYarn? Yarn = null, float Magnitude = 1f);
