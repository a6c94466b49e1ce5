using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// The {arch}.rope.scaling.* keys as llama.cpp reads them (llama_model::load_hparams, the llama_context constructor):
/// linear scaling, YaRN, LongRoPE (whose factor tensors the family loads), and the attention factor.
/// </summary>
internal readonly record struct RopeScaling(float FreqScale, RopeYarn? Yarn, float Magnitude, int OriginalContextLength)
{
    /// <summary>
    /// Reads the scaling of a model whose RoPE rotates <paramref name="ropeDims"/> dimensions at base
    /// <paramref name="freqBase"/> and was trained on <paramref name="contextLength"/> positions.
    /// </summary>
    /// <remarks>
    /// llama.cpp reads yarn_beta_fast / yarn_beta_slow / yarn_ext_factor / yarn_attn_factor from the file only for a few
    /// architectures (grok, mistral3, ...), none of those this engine builds: for them it takes its defaults (32, 1, 1, 1),
    /// and so does this. rope.scaling.yarn_log_multiplier (DeepSeek's mscale_all_dim) changes llama.cpp's attention factor
    /// in ways that differ between its versions; such files are refused rather than guessed at.
    /// </remarks>
    public static RopeScaling Read(GgufFile file, string arch, int ropeDims, float freqBase, int contextLength)
    {
        string typeKey = $"{arch}.rope.scaling.type";
        // llama.cpp's default is "linear": a factor without a type scales linearly.
        string type = file.GetString(typeKey) ?? "linear";
        if (type is not ("none" or "linear" or "yarn" or "longrope"))
            throw new NotSupportedException($"{typeKey} '{type}' is not supported (supported: none, linear, yarn, longrope)");

        string factorKey = $"{arch}.rope.scaling.factor";
        double factor = file.GetDouble(factorKey) ?? file.GetDouble($"{arch}.rope.scale_linear") ?? 0.0;
        if (factor < 0 || !double.IsFinite(factor))
            throw new ModelFormatException(file.Path, factorKey, $"{factor} must be a finite, non-negative number");
        float freqScale = factor == 0.0 || type == "none" ? 1.0f : (float)(1.0 / factor);

        string attnKey = $"{arch}.rope.scaling.attn_factor";
        double attnFactor = file.GetDouble(attnKey) ?? 1.0;
        if (attnFactor <= 0 || !double.IsFinite(attnFactor))
            throw new ModelFormatException(file.Path, attnKey, $"{attnFactor} must be a positive number");

        string originalKey = $"{arch}.rope.scaling.original_context_length";
        int original = contextLength;
        if (file.Find(originalKey) is { } o)
        {
            long v = o.IsArray ? -1 : o.AsInt64();
            if (v <= 0 || v > int.MaxValue)
                throw new ModelFormatException(file.Path, originalKey, $"{o.Describe()} is not a positive 32-bit integer");
            original = (int)v;
        }

        float magnitude = (float)attnFactor;
        RopeYarn? yarn = null;
        if (type == "yarn")
        {
            string logMulKey = $"{arch}.rope.scaling.yarn_log_multiplier";
            if (file.GetDouble(logMulKey) is { } logMul && logMul != 0)
                throw new NotSupportedException($"{logMulKey} {logMul}: YaRN with a log multiplier (DeepSeek's mscale_all_dim) is not supported");
            if (freqScale > 1.0f)
                throw new ModelFormatException(file.Path, factorKey, $"YaRN needs a factor of at least 1, got {factor}");
            yarn = RopeYarn.For(ropeDims, original, freqBase);
            // ggml_rope_ext multiplies the attention factor by this whenever ext_factor is not 0.
            magnitude *= RopeYarn.MagnitudeFor(freqScale);
        }
        return new RopeScaling(freqScale, yarn, magnitude, original);
    }
}
