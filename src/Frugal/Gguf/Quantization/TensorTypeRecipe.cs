using Frugal.Numerics;

namespace Frugal.Gguf.Quantization;

/// <summary>
/// Which type each tensor of a model gets under a file type: llama.cpp's rules (src/llama-quant.cpp,
/// <c>tensor_allows_quantization</c>, <c>llama_tensor_get_type</c> and <c>tensor_type_fallback</c>) for the file types
/// of <see cref="QuantizationFileType.All"/>, without an importance matrix and without per-tensor overrides.
/// Stateful as llama.cpp's: the attn_v and ffn_* counters advance as tensors are asked for, so ask in
/// <see cref="Order"/>, once per tensor.
/// </summary>
public sealed class TensorTypeRecipe
{
    private readonly QuantizationFileType _fileType;
    private readonly QuantizedModelShape _shape;
    private readonly bool _pure;
    private readonly bool _tiedEmbeddings;
    private readonly int _attentionVCount;
    private int _attentionV, _ffnDown, _ffnGate, _ffnUp;

    public TensorTypeRecipe(QuantizationFileType fileType, QuantizedModelShape shape, IEnumerable<string> tensorNames, bool pure)
    {
        _fileType = fileType;
        _shape = shape;
        _pure = pure;
        var names = tensorNames.ToList();
        _tiedEmbeddings = !names.Any(n => CategoryOf(n) == Category.Output);
        _attentionVCount = names.Count(n => IsAttentionVLike(CategoryOf(n)));
    }

    /// <summary>Tensors that fell back to another type because their rows are not whole blocks of the chosen one.</summary>
    public int Fallbacks { get; private set; }

    /// <summary>
    /// llama.cpp's tensor order (its loader's weight map): tensors outside blocks first, then block by block, each
    /// group by name (ordinal). The recipe's layer counters assume it, and the output file is written in it.
    /// </summary>
    public static IEnumerable<GgufTensorInfo> Order(IEnumerable<GgufTensorInfo> tensors) =>
        tensors.OrderBy(t => LayerOf(t.Name)).ThenBy(t => t.Name, StringComparer.Ordinal);

    /// <summary>The type <paramref name="tensor"/> is written in: its own when it is not quantized (norms, 1-D tensors).</summary>
    public GgmlType Choose(GgufTensorInfo tensor)
    {
        if (!AllowsQuantization(tensor))
            return tensor.Type;
        var type = _fileType.DefaultType;
        if (!_fileType.IsQuantized)
            return type;
        if (!_pure)
            type = Mix(tensor, type);
        return Fallback(tensor, type);
    }

    /// <summary>llama.cpp's tensor_allows_quantization: 2-D and 3-D weights, less norms and a list of small or special tensors.</summary>
    public static bool AllowsQuantization(GgufTensorInfo tensor)
    {
        if (NDims(tensor) < 2) return false;
        string name = tensor.Name;
        if (!name.EndsWith("weight", StringComparison.Ordinal) || name.Contains("_norm.weight", StringComparison.Ordinal))
            return false;
        if (name is "position_embd.weight" or "token_types.weight") return false;
        return !KeptAsIs.Any(part => name.Contains(part, StringComparison.Ordinal));
    }

    /// <summary>ggml_n_dims: the count of dimensions up to the last one above 1 (at least 1).</summary>
    private static int NDims(GgufTensorInfo t)
    {
        for (int i = t.Dimensions.Length - 1; i >= 1; i--)
            if (t.Dimensions[i] != 1) return i + 1;
        return 1;
    }

    // Name parts llama.cpp never quantizes: expert routers, tiny Gemma-3n and RWKV tensors, convolutions, vision and
    // audio embeddings.
    private static readonly string[] KeptAsIs =
    [
        "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d",
        "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight",
        "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
        "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
        ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
    ];

    private enum Category { TokenEmbedding, AttentionQ, AttentionV, AttentionK, AttentionQkv, AttentionKvB, AttentionOutput, FfnUp, FfnGate, FfnDown, Output, Other }

    private static Category CategoryOf(string name)
    {
        if (name == "output.weight") return Category.Output;
        if (name is "token_embd.weight" or "per_layer_token_embd.weight") return Category.TokenEmbedding;
        (string Part, Category Category)[] parts =
        [
            ("attn_qkv.weight", Category.AttentionQkv), ("attn_kv_b.weight", Category.AttentionKvB), ("attn_v.weight", Category.AttentionV),
            ("attn_k.weight", Category.AttentionK), ("attn_q.weight", Category.AttentionQ), ("attn_output.weight", Category.AttentionOutput),
            ("ffn_up", Category.FfnUp), ("ffn_gate", Category.FfnGate), ("ffn_down", Category.FfnDown),
        ];
        foreach (var (part, category) in parts)
            if (name.Contains(part, StringComparison.Ordinal)) return category;
        return Category.Other;
    }

    private static bool IsAttentionVLike(Category c) => c is Category.AttentionV or Category.AttentionQkv or Category.AttentionKvB;

    /// <summary>"blk.N." gives N; anything else sorts before every block (-1), as llama.cpp's sscanf comparer does.</summary>
    private static int LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        int end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), System.Globalization.NumberStyles.AllowLeadingSign, null, out int layer) ? layer : -1;
    }

    /// <summary>
    /// llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between get more bits
    /// (the Q4_K_M / Q5_K_M Q6_K layers).
    /// </summary>
    private static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    private GgmlType Mix(GgufTensorInfo tensor, GgmlType type)
    {
        string ft = _fileType.Name;
        var category = CategoryOf(tensor.Name);
        bool falcon = _shape.Architecture == "falcon";
        int experts = _shape.ExpertCount;

        // Tied embeddings: the token embedding is the output projection too, so it gets the output's type.
        if (category == Category.Output || (_tiedEmbeddings && category == Category.TokenEmbedding))
        {
            if (falcon || tensor.RowLength % GgmlTypeInfo.BlockSize(type) != 0) return GgmlType.Q8_0;
            return type != GgmlType.Q8_0 ? GgmlType.Q6_K : type;
        }
        if (category == Category.TokenEmbedding)
            return type;
        if (IsAttentionVLike(category))
        {
            int gqa = _shape.GroupedQueryFactor;
            if (ft == "Q2_K") type = gqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (ft == "Q3_K_M") type = _attentionV < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            else if (ft == "Q3_K_L") type = GgmlType.Q5_K;
            else if ((ft is "Q4_K_M" or "Q5_K_M") && UseMoreBits(_attentionV, _attentionVCount)) type = GgmlType.Q6_K;
            else if (ft == "Q4_K_S" && _attentionV < 4) type = GgmlType.Q5_K;
            // 70B Llamas share one attn_v among 8 query heads: the tensor is small, more bits cost little.
            if (_shape.IsLlama70B && type is GgmlType.Q3_K or GgmlType.Q4_K) type = GgmlType.Q5_K;
            if (experts == 8) type = GgmlType.Q8_0;
            _attentionV++;
            return type;
        }
        switch (category)
        {
            case Category.AttentionK:
                return experts == 8 ? GgmlType.Q8_0 : type;
            case Category.FfnDown:
            {
                int layer = LayerFor(tensor.Name, _ffnDown++);
                int n = _shape.LayerCount;
                if (ft == "Q2_K") return GgmlType.Q3_K;
                if (ft == "Q3_K_M")
                    return layer < n / 16 ? GgmlType.Q5_K : !falcon || UseMoreBits(layer, n) ? GgmlType.Q4_K : GgmlType.Q3_K;
                if (ft == "Q3_K_L") return falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
                if (ft == "Q4_K_M")
                {
                    if (falcon) return layer < n / 16 ? GgmlType.Q6_K : UseMoreBits(layer, n) ? GgmlType.Q5_K : GgmlType.Q4_K;
                    return UseMoreBits(layer, n) ? GgmlType.Q6_K : type;
                }
                if (ft == "Q5_K_M" && UseMoreBits(layer, n)) return GgmlType.Q6_K;
                if (ft == "Q4_K_S" && !falcon && layer < n / 8) return GgmlType.Q5_K;
                return type;
            }
            case Category.AttentionOutput:
                if (falcon) return ft == "Q3_K_L" ? GgmlType.Q4_K : type;
                if (experts == 8) return ft is "Q2_K" or "Q3_K_S" or "Q3_K_M" or "Q4_K_S" or "Q4_K_M" ? GgmlType.Q5_K : type;
                return ft switch { "Q2_K" => GgmlType.Q3_K, "Q3_K_M" => GgmlType.Q4_K, "Q3_K_L" => GgmlType.Q5_K, _ => type };
            case Category.FfnGate:
                LayerFor(tensor.Name, _ffnGate++);
                return type;
            case Category.FfnUp:
                LayerFor(tensor.Name, _ffnUp++);
                return type;
            default:
                return type;
        }
    }

    /// <summary>
    /// The layer a ffn tensor belongs to: the running count for dense models, the "blk.N." number with experts (whose
    /// tensors need not come one per layer).
    /// </summary>
    private int LayerFor(string name, int counter)
    {
        if (_shape.ExpertCount <= 1) return counter;
        int layer = LayerOf(name);
        if (layer < 0 || layer >= _shape.LayerCount)
            throw new InvalidDataException($"tensor '{name}': cannot tell its layer (expected blk.N. with N below {_shape.LayerCount})");
        return layer;
    }

    /// <summary>
    /// llama.cpp's tensor_type_fallback: a row that is not whole blocks of the chosen type takes a 32-element type of
    /// about the same size, or F16 when even that does not fit.
    /// </summary>
    private GgmlType Fallback(GgufTensorInfo tensor, GgmlType type)
    {
        long columns = tensor.RowLength;
        if (columns % GgmlTypeInfo.BlockSize(type) == 0) return type;
        Fallbacks++;
        var fallback = type switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.Q4_0,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => throw new NotSupportedException(
                $"tensor '{tensor.Name}' has rows of {columns} elements, not a multiple of the {GgmlTypeInfo.Name(type)} block size {GgmlTypeInfo.BlockSize(type)}, and {GgmlTypeInfo.Name(type)} has no fallback type"),
        };
        return columns % GgmlTypeInfo.BlockSize(fallback) == 0 ? fallback : GgmlType.F16;
    }
}
