using Frugal.Gguf;
using Frugal.Numerics;

namespace Frugal.Cli.Commands;

/// <summary>What <c>frugal info</c> reports about a GGUF file, read from its metadata and tensor directory only.</summary>
internal sealed record ModelSummary(
    string Path,
    long FileBytes,
    uint Version,
    uint Alignment,
    string? Architecture,
    string? Name,
    long? ContextLength,
    long? EmbeddingLength,
    long? BlockCount,
    long? HeadCount,
    long? HeadCountKv,
    string? TokenizerModel,
    int? VocabSize,
    int MetadataCount,
    int TensorCount,
    long TensorBytes,
    IReadOnlyList<(string Type, int Count, long Bytes)> TensorTypes)
{
    public static ModelSummary Of(GgufFile f, string path)
    {
        string? arch = Text(f, "general.architecture");
        long? ArchInt(string key) => arch is null ? null : Int(f, $"{arch}.{key}");
        var types = f.Tensors
            .GroupBy(t => t.Type)
            .OrderByDescending(g => g.Sum(t => t.ByteSize))
            .Select(g => (GgmlTypeInfo.Name(g.Key), g.Count(), g.Sum(t => t.ByteSize)))
            .ToList();
        var tokens = f.Find("tokenizer.ggml.tokens");
        return new ModelSummary(path, f.Length, f.Version, f.Alignment, arch, Text(f, "general.name"),
            ArchInt("context_length"), ArchInt("embedding_length"), ArchInt("block_count"),
            ArchInt("attention.head_count"), ArchInt("attention.head_count_kv"),
            Text(f, "tokenizer.ggml.model"), tokens is { IsArray: true } ? tokens.ArrayLength : null,
            f.Metadata.Count, f.Tensors.Count, f.Tensors.Sum(t => t.ByteSize), types);
    }

    // info describes any file it can parse, so metadata of an unexpected type shows as absent rather than failing.
    private static string? Text(GgufFile f, string key) => f.Find(key)?.Value as string;

    private static long? Int(GgufFile f, string key)
    {
        var v = f.Find(key);
        if (v is null || v.IsArray || v.Value is string or float or double or bool) return null;
        try { return v.AsInt64(); } catch (InvalidCastException) { return null; }
    }
}
