using Frugal.Gguf;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>Reads a <see cref="ModelConfig"/> from the {arch}.* metadata keys, with llama.cpp's defaults.</summary>
internal static class HyperParameters
{
    public static ModelConfig Read(GgufFile file, string arch, RopeStyle ropeStyle)
    {
        int dim = Required(file, $"{arch}.embedding_length");
        int heads = Required(file, $"{arch}.attention.head_count");
        int kvHeads = Optional(file, $"{arch}.attention.head_count_kv") ?? heads;
        int headDim = Optional(file, $"{arch}.attention.key_length") ?? (dim % heads == 0 ? dim / heads : 0);
        if (headDim <= 0)
            throw new ModelFormatException(file.Path, $"{arch}.attention.key_length", $"missing, and embedding_length {dim} is not a multiple of head_count {heads}");
        int valueDim = Optional(file, $"{arch}.attention.value_length") ?? headDim;
        if (valueDim != headDim)
            throw new NotSupportedException($"{arch}.attention.value_length {valueDim} differs from key_length {headDim}; only equal key and value head sizes are supported");
        if (kvHeads > heads || heads % kvHeads != 0)
            throw new ModelFormatException(file.Path, $"{arch}.attention.head_count_kv", $"{kvHeads} must divide head_count {heads}");
        int ff = Required(file, $"{arch}.feed_forward_length");
        // Some converters write expert_count = 0 (and expert_used_count = 0) for dense models.
        int experts = IsZero(file, $"{arch}.expert_count") ? 0 : Optional(file, $"{arch}.expert_count") ?? 0;
        int expertsUsed = experts > 0 ? Required(file, $"{arch}.expert_used_count") : 0;
        if (expertsUsed > experts)
            throw new ModelFormatException(file.Path, $"{arch}.expert_used_count", $"{expertsUsed} is more than expert_count {experts}");

        int ropeDims = Optional(file, $"{arch}.rope.dimension_count") ?? headDim;
        if (ropeDims % 2 != 0 || ropeDims > headDim)
            throw new ModelFormatException(file.Path, $"{arch}.rope.dimension_count", $"{ropeDims} must be even and at most the head size {headDim}");

        var embd = file.FindTensor("token_embd.weight")
            ?? throw new ModelFormatException(file.Path, "token_embd.weight", "tensor is missing");
        int vocab = Optional(file, $"{arch}.vocab_size") ?? checked((int)embd.RowCount);

        float eps = (float)(file.GetDouble($"{arch}.attention.layer_norm_rms_epsilon")
            ?? throw new ModelFormatException(file.Path, $"{arch}.attention.layer_norm_rms_epsilon", "metadata key is missing"));

        int context = Required(file, $"{arch}.context_length");
        float freqBase = (float)(file.GetDouble($"{arch}.rope.freq_base") ?? 10000.0);
        var scaling = RopeScaling.Read(file, arch, ropeDims, freqBase, context);

        return new ModelConfig
        {
            Architecture = arch,
            VocabSize = vocab,
            ContextLength = context,
            EmbeddingLength = dim,
            BlockCount = Required(file, $"{arch}.block_count"),
            HeadCount = heads,
            HeadCountKv = kvHeads,
            HeadDim = headDim,
            FeedForwardLength = ff,
            ExpertCount = experts,
            ExpertUsedCount = expertsUsed,
            ExpertFeedForwardLength = experts > 0 ? Optional(file, $"{arch}.expert_feed_forward_length") ?? ff : 0,
            RmsNormEpsilon = eps,
            RopeFreqBase = freqBase,
            RopeStyle = ropeStyle,
            RopeDimensionCount = ropeDims,
            RopeFreqScale = scaling.FreqScale,
            RopeYarn = scaling.Yarn,
            RopeMagnitude = scaling.Magnitude,
            RopeOriginalContextLength = scaling.OriginalContextLength,
            TiedEmbeddings = file.FindTensor("output.weight") is null,
        };
    }

    private static bool IsZero(GgufFile file, string key)
    {
        try
        {
            return file.Find(key) is { IsArray: false } value && value.AsInt64() == 0;
        }
        catch (InvalidCastException)
        {
            return false; // Optional names the problem
        }
    }

    private static int Required(GgufFile file, string key) =>
        Optional(file, key) ?? throw new ModelFormatException(file.Path, key, "metadata key is missing");

    private static int? Optional(GgufFile file, string key)
    {
        var value = file.Find(key);
        if (value is null) return null;
        if (value.IsArray)
            throw new NotSupportedException($"{key} is an {value.Describe()}: per-layer hyper-parameters are not supported");
        long v;
        try
        {
            v = value.AsInt64();
        }
        catch (InvalidCastException e)
        {
            throw new ModelFormatException(file.Path, key, $"expected an integer, got {e.Message}");
        }
        if (v <= 0 || v > int.MaxValue)
            throw new ModelFormatException(file.Path, key, $"{v} is out of range (expected a positive 32-bit integer)");
        return (int)v;
    }
}
