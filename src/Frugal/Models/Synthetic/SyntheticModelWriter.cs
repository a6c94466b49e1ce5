using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Frugal.Gguf;
using Frugal.Numerics;

namespace Frugal.Models.Synthetic;

/// <summary>
/// Writes random-weight GGUF models with the exact tensor names, metadata keys and shapes llama.cpp expects of
/// each family, so the same file can be run by this engine and by llama.cpp and the two compared.
/// </summary>
/// <remarks>
/// Init: each projection is normal with std 1/sqrt(fan-in) (unit-scale activations, attention scores of order 1),
/// token embedding and output std 2/sqrt(width) (logits of std ~2, so top-2 margins are well above rounding),
/// norm weights 1 + N(0, 0.1), biases N(0, 0.3). Deterministic for a given spec (seeded).
/// </remarks>
public static class SyntheticModelWriter
{
    public static void Write(SyntheticModelSpec spec, string path) => Build(spec).WriteTo(path);

    public static GgufWriter Build(SyntheticModelSpec spec)
    {
        Validate(spec);
        var rng = new NormalSampler(spec.Seed);
        var w = new GgufWriter();
        string arch = spec.Architecture;
        int dim = spec.EmbeddingLength, qDim = spec.HeadCount * spec.HeadDim, kvDim = spec.HeadCountKv * spec.HeadDim;
        int ff = spec.FeedForwardLength, vocab = spec.VocabSize;

        w.Add("general.architecture", arch);
        w.Add("general.name", $"frugal-synthetic-{spec.Name}");
        w.Add("general.file_type", FileType(spec.WeightType));
        w.Add($"{arch}.vocab_size", (uint)vocab);
        w.Add($"{arch}.context_length", (uint)spec.ContextLength);
        w.Add($"{arch}.embedding_length", (uint)dim);
        w.Add($"{arch}.block_count", (uint)spec.BlockCount);
        w.Add($"{arch}.feed_forward_length", (uint)ff);
        w.Add($"{arch}.attention.head_count", (uint)spec.HeadCount);
        w.Add($"{arch}.attention.head_count_kv", (uint)spec.HeadCountKv);
        w.Add($"{arch}.attention.key_length", (uint)spec.HeadDim);
        w.Add($"{arch}.attention.value_length", (uint)spec.HeadDim);
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", spec.RmsNormEpsilon);
        w.Add($"{arch}.rope.freq_base", spec.RopeFreqBase);
        if (!IsGemma(spec)) w.Add($"{arch}.rope.dimension_count", (uint)spec.RopeDims);   // Gemma converters write none: n_rot = head size
        if (spec.SlidingWindow > 0 || spec.Family == SyntheticFamily.Phi3) w.Add($"{arch}.attention.sliding_window", (uint)spec.SlidingWindow);
        if (spec.AttentionSoftCap > 0) w.Add($"{arch}.attn_logit_softcapping", spec.AttentionSoftCap);
        if (spec.FinalLogitSoftCap > 0) w.Add($"{arch}.final_logit_softcapping", spec.FinalLogitSoftCap);
        if (spec.RopeLinearFactor > 0)
        {
            w.Add($"{arch}.rope.scaling.type", "linear");
            w.Add($"{arch}.rope.scaling.factor", spec.RopeLinearFactor);
        }
        if (spec.Yarn is { } yarn)
        {
            w.Add($"{arch}.rope.scaling.type", "yarn");
            w.Add($"{arch}.rope.scaling.factor", yarn.Factor);
            w.Add($"{arch}.rope.scaling.original_context_length", (uint)yarn.OriginalContextLength);
        }
        if (spec.LongRope is { } longRope)
        {
            // What convert_hf_to_gguf.py writes for Phi-3 "longrope": no type, the original context, the attention factor.
            w.Add($"{arch}.rope.scaling.original_context_length", (uint)longRope.OriginalContextLength);
            w.Add($"{arch}.rope.scaling.attn_factor", LongRopeAttentionFactor(spec.ContextLength, longRope.OriginalContextLength));
        }
        if (spec.Experts is { } experts)
        {
            w.Add($"{arch}.expert_count", (uint)experts.Count);
            w.Add($"{arch}.expert_used_count", (uint)experts.Used);
            if (spec.Family == SyntheticFamily.Qwen3)
                w.Add($"{arch}.expert_feed_forward_length", (uint)experts.FeedForwardLength);
        }
        SyntheticVocabulary.AddTo(w, vocab, spec.Family == SyntheticFamily.Phi3 ? ["<|endoftext|>"] : null);

        float embedStd = 2f / MathF.Sqrt(dim);
        Matrix(w, spec, rng, "token_embd.weight", vocab, dim, embedStd);
        if (spec.RopeScaling is { } scaling)
            w.AddTensor("rope_freqs.weight", [spec.HeadDim / 2], Llama3RopeFactors.Compute(scaling, spec.HeadDim, spec.RopeFreqBase));
        if (spec.LongRope is { } lr)
        {
            var (longFactors, shortFactors) = LongRopeFactors(spec.RopeDims / 2, spec.ContextLength, lr.OriginalContextLength);
            w.AddTensor("rope_factors_long.weight", [spec.RopeDims / 2], longFactors);
            w.AddTensor("rope_factors_short.weight", [spec.RopeDims / 2], shortFactors);
        }
        bool phi3 = spec.Family == SyntheticFamily.Phi3;
        for (int i = 0; i < spec.BlockCount; i++)
        {
            string p = $"blk.{i}.";
            Norm(w, rng, p + "attn_norm.weight", dim);
            if (phi3)
                Matrix(w, spec, rng, p + "attn_qkv.weight", qDim + 2 * kvDim, dim, 1f / MathF.Sqrt(dim));  // rows [q | k | v]
            else
            {
                Matrix(w, spec, rng, p + "attn_q.weight", qDim, dim, 1f / MathF.Sqrt(dim));
                Matrix(w, spec, rng, p + "attn_k.weight", kvDim, dim, 1f / MathF.Sqrt(dim));
                Matrix(w, spec, rng, p + "attn_v.weight", kvDim, dim, 1f / MathF.Sqrt(dim));
            }
            if (spec.Family == SyntheticFamily.Qwen2)
            {
                Vector(w, rng, p + "attn_q.bias", qDim, 0f, 0.3f);
                Vector(w, rng, p + "attn_k.bias", kvDim, 0f, 0.3f);
                Vector(w, rng, p + "attn_v.bias", kvDim, 0f, 0.3f);
            }
            if (spec.Family is SyntheticFamily.Qwen3 or SyntheticFamily.Gemma3)
            {
                Norm(w, rng, p + "attn_q_norm.weight", spec.HeadDim);
                Norm(w, rng, p + "attn_k_norm.weight", spec.HeadDim);
            }
            if (spec.Family == SyntheticFamily.Olmoe)
            {
                Norm(w, rng, p + "attn_q_norm.weight", qDim);
                Norm(w, rng, p + "attn_k_norm.weight", kvDim);
            }
            Matrix(w, spec, rng, p + "attn_output.weight", dim, qDim, 1f / MathF.Sqrt(qDim));
            if (IsGemma(spec)) Norm(w, rng, p + "post_attention_norm.weight", dim);
            Norm(w, rng, p + "ffn_norm.weight", dim);
            if (spec.Experts is { } e)
            {
                SyntheticExpertTensors.Add(w, p, dim, e, (name, dims, std) => Tensor(w, spec, rng, name, dims, std),
                    (name, rows, cols, std) => RouterMatrix(w, rng, name, rows, cols, std));
                continue;
            }
            if (phi3)
                Matrix(w, spec, rng, p + "ffn_up.weight", 2 * ff, dim, 1f / MathF.Sqrt(dim));  // rows [gate | up]
            else
            {
                Matrix(w, spec, rng, p + "ffn_gate.weight", ff, dim, 1f / MathF.Sqrt(dim));
                Matrix(w, spec, rng, p + "ffn_up.weight", ff, dim, 1f / MathF.Sqrt(dim));
            }
            Matrix(w, spec, rng, p + "ffn_down.weight", dim, ff, 1f / MathF.Sqrt(ff));
            if (IsGemma(spec)) Norm(w, rng, p + "post_ffw_norm.weight", dim);
        }
        Norm(w, rng, "output_norm.weight", dim);
        if (!spec.TiedEmbeddings)
            Matrix(w, spec, rng, "output.weight", vocab, dim, embedStd);
        return w;
    }

    private static void Validate(SyntheticModelSpec s)
    {
        if (s.EmbeddingLength <= 0 || s.BlockCount <= 0 || s.HeadCount <= 0 || s.HeadCountKv <= 0 || s.HeadDim <= 0 || s.FeedForwardLength <= 0)
            throw new ArgumentException($"synthetic model '{s.Name}': every size must be positive");
        if (s.HeadCount % s.HeadCountKv != 0)
            throw new ArgumentException($"synthetic model '{s.Name}': head_count {s.HeadCount} is not a multiple of head_count_kv {s.HeadCountKv}");
        if (s.HeadDim % 2 != 0)
            throw new ArgumentException($"synthetic model '{s.Name}': RoPE needs an even head size, got {s.HeadDim}");
        if (s.RopeScaling is not null && s.Family != SyntheticFamily.Llama3)
            throw new ArgumentException($"synthetic model '{s.Name}': rope_freqs scaling is a llama-family tensor");
        SyntheticExpertTensors.Validate(s);
        if (s.Family == SyntheticFamily.Gemma2 && !s.TiedEmbeddings)
            throw new ArgumentException($"synthetic model '{s.Name}': gemma2 ties its output to token_embd (llama.cpp loads no output.weight)");
        if (!IsGemma(s) && (s.AttentionSoftCap > 0 || s.FinalLogitSoftCap > 0))
            throw new ArgumentException($"synthetic model '{s.Name}': soft-caps are written for the gemma families only");
        if (!IsGemma(s) && s.Family != SyntheticFamily.Phi3 && s.SlidingWindow > 0)
            throw new ArgumentException($"synthetic model '{s.Name}': sliding windows are written for the gemma and phi3 families only");
        if (s.LongRope is not null && s.Family != SyntheticFamily.Phi3)
            throw new ArgumentException($"synthetic model '{s.Name}': LongRoPE factor sets are phi3 tensors");
        if (s.RopeDimensionCount < 0 || s.RopeDims % 2 != 0 || s.RopeDims > s.HeadDim)
            throw new ArgumentException($"synthetic model '{s.Name}': rope dimension count {s.RopeDimensionCount} must be even and within the head size {s.HeadDim}");
        if (s.Family is not SyntheticFamily.Phi3 && s.RopeDims != s.HeadDim)
            throw new ArgumentException($"synthetic model '{s.Name}': llama.cpp rotates whole heads in {s.Architecture}");
        if (s.Family is not (SyntheticFamily.Qwen3 or SyntheticFamily.Gemma2 or SyntheticFamily.Gemma3) && s.HeadCount * s.HeadDim != s.EmbeddingLength)
            throw new ArgumentException($"synthetic model '{s.Name}': {s.Architecture} needs head_count x head size = width ({s.HeadCount} x {s.HeadDim} != {s.EmbeddingLength})");
    }

    private static bool IsGemma(SyntheticModelSpec s) => s.Family is SyntheticFamily.Gemma2 or SyntheticFamily.Gemma3;

    /// <summary>convert_hf_to_gguf.py's LongRoPE attention factor: sqrt(1 + ln(scale) / ln(original context)).</summary>
    public static float LongRopeAttentionFactor(int contextLength, int originalContextLength)
    {
        double scale = (double)contextLength / originalContextLength;
        return scale > 1.0 ? (float)Math.Sqrt(1 + Math.Log(scale) / Math.Log(originalContextLength)) : 1f;
    }

    /// <summary>
    /// Factor sets shaped like Phi-3.5-mini's: the short set near 1, the long one rising from 1 over the high frequencies
    /// to past the context ratio over the low ones (so the two differ at every pair but the first).
    /// </summary>
    private static (float[] Long, float[] Short) LongRopeFactors(int pairs, int contextLength, int originalContextLength)
    {
        float scale = Math.Max(2f, (float)contextLength / originalContextLength);
        var longFactors = new float[pairs];
        var shortFactors = new float[pairs];
        for (int i = 0; i < pairs; i++)
        {
            float t = pairs == 1 ? 1f : (float)i / (pairs - 1);
            longFactors[i] = 1f + (1.5f * scale - 1f) * t * t;
            shortFactors[i] = 1f + 0.25f * t;
        }
        return (longFactors, shortFactors);
    }

    private static void Matrix(GgufWriter w, SyntheticModelSpec spec, NormalSampler rng, string name, int rows, int cols, float std)
    {
        var values = new float[(long)rows * cols];  // [rows, cols]
        rng.Fill(values, 0f, std);
        w.AddTensor(name, spec.WeightType, [cols, rows], Encode(spec.WeightType, values, name));
    }

    /// <summary>A weight of any rank (ggml dims, fastest first) in the spec's weight type.</summary>
    private static void Tensor(GgufWriter w, SyntheticModelSpec spec, NormalSampler rng, string name, long[] dims, float std)
    {
        var values = new float[dims.Aggregate(1L, (a, d) => a * d)];
        rng.Fill(values, 0f, std);
        w.AddTensor(name, spec.WeightType, dims, Encode(spec.WeightType, values, name));
    }

    /// <summary>An F32 matrix whatever the spec's weight type (the MoE router, which converters and llama-quantize keep in F32).</summary>
    private static void RouterMatrix(GgufWriter w, NormalSampler rng, string name, int rows, int cols, float std)
    {
        var values = new float[(long)rows * cols];
        rng.Fill(values, 0f, std);
        w.AddTensor(name, [cols, rows], values);
    }

    private static void Norm(GgufWriter w, NormalSampler rng, string name, int length) => Vector(w, rng, name, length, 1f, 0.1f);

    private static void Vector(GgufWriter w, NormalSampler rng, string name, int length, float mean, float std)
    {
        var values = new float[length];
        rng.Fill(values, mean, std);
        w.AddTensor(name, [length], values);
    }

    /// <summary>Encodes float weights in <paramref name="type"/>'s block format.</summary>
    public static byte[] Encode(GgmlType type, float[] values, string name = "")
    {
        switch (type)
        {
            case GgmlType.F32:
                return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            case GgmlType.F16:
                var half = new byte[values.Length * 2L];
                TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(half.AsSpan()));
                return half;
            case GgmlType.BF16:
                var bf = new byte[values.Length * 2L];
                var words = MemoryMarshal.Cast<byte, ushort>(bf.AsSpan());
                for (int i = 0; i < values.Length; i++)
                {
                    uint bits = BitConverter.SingleToUInt32Bits(values[i]);
                    words[i] = (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);  // round to nearest even
                }
                return bf;
            default:
                if (!Quantize.CanQuantizeTo(type))
                    throw new NotSupportedException($"synthetic tensor '{name}': cannot quantize to {GgmlTypeInfo.Name(type)}");
                var blocks = new byte[GgmlTypeInfo.RowBytes(type, values.Length)];
                Quantize.Row(type, values, blocks);
                return blocks;
        }
    }

    private static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0u,
        GgmlType.F16 => 1u,
        GgmlType.BF16 => 32u,
        // llama_ftype ids of the files whose weights are all of one block type.
        GgmlType.Q4_0 => 2u,
        GgmlType.Q4_1 => 3u,
        GgmlType.Q8_0 => 7u,
        GgmlType.Q5_0 => 8u,
        GgmlType.Q5_1 => 9u,
        GgmlType.Q2_K => 10u,
        GgmlType.Q3_K => 11u,
        GgmlType.Q4_K => 14u,
        GgmlType.Q5_K => 16u,
        GgmlType.Q6_K => 18u,
        _ => throw new NotSupportedException($"no llama_ftype for synthetic weight type {GgmlTypeInfo.Name(type)}"),
    };

    /// <summary>
    /// Seeded N(mean, std) samples by the Box-Muller transform. Each tensor is its own stream and each chunk of
    /// it its own SplitMix64 sequence, so chunks fill in parallel and the result never depends on thread count.
    /// </summary>
    private sealed class NormalSampler(int seed)
    {
        private const int Chunk = 1 << 16;
        private int _stream;

        public void Fill(float[] dst, float mean, float std)
        {
            ulong stream = (ulong)_stream++;
            int chunks = (dst.Length + Chunk - 1) / Chunk;
            Parallel.For(0, chunks, c =>
            {
                ulong state = Mix(((ulong)(uint)seed << 32) ^ (stream * 0xD1B54A32D192ED03UL) ^ ((ulong)c * 0x9E3779B97F4A7C15UL));
                int end = Math.Min(dst.Length, (c + 1) * Chunk);
                for (int i = c * Chunk; i < end; i += 2)
                {
                    double u1 = 1.0 - Uniform(ref state), u2 = Uniform(ref state);
                    double r = Math.Sqrt(-2.0 * Math.Log(u1));
                    var (sin, cos) = Math.SinCos(2 * Math.PI * u2);
                    dst[i] = mean + std * (float)(r * cos);
                    if (i + 1 < end) dst[i + 1] = mean + std * (float)(r * sin);
                }
            });
        }

        /// <summary>A uniform double in [0, 1) from the next SplitMix64 output.</summary>
        private static double Uniform(ref ulong state)
        {
            state += 0x9E3779B97F4A7C15UL;
            return (Mix(state) >> 11) * (1.0 / (1UL << 53));
        }

        private static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
