namespace Frugal.Gguf.Quantization;

/// <summary>
/// The hyper-parameters llama.cpp's quantization recipe looks at, read from a file's metadata: architecture, layer
/// count, attention heads (for the grouped-query factor) and experts.
/// </summary>
public sealed record QuantizedModelShape(string Architecture, int LayerCount, int HeadCount, int HeadCountKv, int ExpertCount)
{
    /// <summary>Query heads per KV head (llama.cpp's n_gqa(), 0 when the KV head count is 0).</summary>
    public int GroupedQueryFactor => HeadCountKv == 0 ? 0 : HeadCount / HeadCountKv;

    /// <summary>
    /// llama.cpp's LLM_TYPE_70B as its llama loader decides it: 80 layers with grouped-query attention. (Other
    /// architectures' 70B sizes are not recognised here.)
    /// </summary>
    public bool IsLlama70B => Architecture == "llama" && LayerCount == 80 && HeadCount != HeadCountKv;

    /// <exception cref="InvalidDataException">general.architecture or {arch}.block_count is missing.</exception>
    public static QuantizedModelShape Of(GgufFile file)
    {
        string arch = file.GetString("general.architecture")
            ?? throw new InvalidDataException($"'{file.Path}' has no general.architecture: cannot tell which model it is");
        int layers = (int)(FirstInt(file, $"{arch}.block_count")
            ?? throw new InvalidDataException($"'{file.Path}' has no {arch}.block_count: the layer count decides the quantization recipe"));
        int heads = (int)(FirstInt(file, $"{arch}.attention.head_count") ?? 0);
        int kvHeads = (int)(FirstInt(file, $"{arch}.attention.head_count_kv") ?? heads);
        int experts = (int)(FirstInt(file, $"{arch}.expert_count") ?? 0);
        return new QuantizedModelShape(arch, layers, heads, kvHeads, experts);
    }

    /// <summary>A scalar, or layer 0's entry of a per-layer array (llama.cpp's recipe reads layer 0's head counts).</summary>
    private static long? FirstInt(GgufFile file, string key) => file.Find(key) switch
    {
        null => null,
        { IsArray: true } v => v.ArrayLength == 0 ? null : v.AsInt64Array()[0],
        var v => v.AsInt64(),
    };
}
