using System.Runtime.InteropServices;
using Frugal.Gguf;
using Frugal.Numerics;
using Frugal.Train.Bpe;
using Frugal.Train.Model;

namespace Frugal.Train.Export;

/// <summary>
/// Writes a trained model as a GGUF file that llama.cpp loads as arch "llama": its tensor names and llama.* keys,
/// matrices in F16 (norm gains stay F32, as llama.cpp expects), and the BPE vocabulary as a "gpt2" tokenizer with
/// the "qwen2" pre-tokenizer. No Q/K permutation: training already applies RoPE in llama.cpp's layout.
/// </summary>
public static class GgufExport
{
    public static GgufWriter Build(Weights weights, BpeTokenizer tokenizer, string name)
    {
        var s = weights.Shape;
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        w.Add("general.name", name);
        w.Add("general.file_type", 1u); // mostly F16
        w.Add("llama.context_length", (uint)s.Context);
        w.Add("llama.embedding_length", (uint)s.Dim);
        w.Add("llama.block_count", (uint)s.Layers);
        w.Add("llama.feed_forward_length", (uint)s.FfnDim);
        w.Add("llama.attention.head_count", (uint)s.Heads);
        w.Add("llama.attention.head_count_kv", (uint)s.KvHeads);
        w.Add("llama.attention.layer_norm_rms_epsilon", s.NormEps);
        w.Add("llama.rope.freq_base", s.RopeBase);
        w.Add("llama.rope.dimension_count", (uint)s.HeadDim);
        w.Add("llama.vocab_size", (uint)s.Vocab);

        w.Add("tokenizer.ggml.model", "gpt2");
        w.Add("tokenizer.ggml.pre", Qwen2PreTokenizer.GgufName);
        w.Add("tokenizer.ggml.tokens", tokenizer.GgufTokens());
        var types = new int[tokenizer.VocabSize];
        Array.Fill(types, 1);                        // LLAMA_TOKEN_TYPE_NORMAL
        types[tokenizer.Bos] = types[tokenizer.Eos] = 3; // LLAMA_TOKEN_TYPE_CONTROL
        w.Add("tokenizer.ggml.token_type", types);
        w.Add("tokenizer.ggml.merges", tokenizer.GgufMerges());
        w.Add("tokenizer.ggml.bos_token_id", (uint)tokenizer.Bos);
        w.Add("tokenizer.ggml.eos_token_id", (uint)tokenizer.Eos);
        w.Add("tokenizer.ggml.padding_token_id", (uint)tokenizer.Eos);
        w.Add("tokenizer.ggml.add_bos_token", true);
        w.Add("tokenizer.ggml.add_eos_token", false);
        w.Add("tokenizer.chat_template", PlainTemplate);

        foreach (var (tensor, offset, rows, cols) in weights.Layout.Tensors())
        {
            var values = weights.Values.AsSpan(offset, rows * cols);
            // ggml order: dims[0] is the row length (the "in" size).
            long[] dims = rows == 1 ? [cols] : [cols, rows];
            if (rows == 1) w.AddTensor(tensor, dims, values);
            else w.AddTensor(tensor, GgmlType.F16, dims, ToF16(values));
        }
        return w;
    }

    /// <summary>
    /// The chat template of a base model that was never tuned for chat: the conversation is plain text, one message
    /// a line, and the reply is the model's continuation of it (so <c>frugal chat</c> continues a story).
    /// </summary>
    public const string PlainTemplate = "{{ bos_token }}{% for message in messages %}{{ message['content'] }}{% if not loop.last %}\n{% endif %}{% endfor %}";

    public static void Write(Weights weights, BpeTokenizer tokenizer, string name, string path) =>
        Build(weights, tokenizer, name).WriteTo(path);

    private static byte[] ToF16(ReadOnlySpan<float> values)
    {
        var half = new Half[values.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(values, half);
        return MemoryMarshal.AsBytes(half.AsSpan()).ToArray();
    }

    /// <summary>Rounds every matrix to F16 in place, so the trainer's forward pass sees what the GGUF file holds.</summary>
    public static void RoundMatricesToF16(Weights weights)
    {
        foreach (var (_, offset, rows, cols) in weights.Layout.Tensors())
        {
            if (rows == 1) continue;
            var span = weights.Values.AsSpan(offset, rows * cols);
            for (int i = 0; i < span.Length; i++) span[i] = (float)(Half)span[i];
        }
        weights.RefreshTransposes();
    }

    /// <summary>Reads weights back from a file this exporter wrote (F16 matrices, F32 norms).</summary>
    public static Weights Load(string path, ModelShape shape)
    {
        using var file = GgufFile.Open(path);
        var weights = new Weights(new ParameterLayout(shape));
        foreach (var (tensor, offset, rows, cols) in weights.Layout.Tensors())
        {
            var info = file.GetTensor(tensor);
            var bytes = file.GetTensorBytes(info);
            var dst = weights.Values.AsSpan(offset, rows * cols);
            if (rows == 1) MemoryMarshal.Cast<byte, float>(bytes)[..dst.Length].CopyTo(dst);
            else System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes)[..dst.Length], dst);
        }
        weights.RefreshTransposes();
        return weights;
    }

    /// <summary>The model shape recorded in a file this exporter wrote.</summary>
    public static ModelShape ReadShape(string path)
    {
        using var file = GgufFile.Open(path);
        int I(string key) => (int)(file.GetInt(key) ?? throw new InvalidDataException($"{path}: missing metadata key {key}"));
        return new ModelShape(I("llama.embedding_length"), I("llama.block_count"), I("llama.attention.head_count"),
            I("llama.attention.head_count_kv"), I("llama.feed_forward_length"), I("llama.vocab_size"), I("llama.context_length"),
            (float)(file.GetDouble("llama.rope.freq_base") ?? 10000), (float)(file.GetDouble("llama.attention.layer_norm_rms_epsilon") ?? 1e-5));
    }
}
