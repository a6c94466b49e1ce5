using System.CommandLine;
using System.Globalization;
using Frugal.Gguf;

namespace Frugal.Cli.Commands;

/// <summary><c>frugal info MODEL [--json] [--metadata]</c>: architecture, sizes, tensor types, tokenizer.</summary>
internal static class InfoCommand
{
    public static Command Create(CliContext context)
    {
        var model = CommonArguments.Model();
        var json = CommonArguments.Json();
        var metadata = new Option<bool>("--metadata") { Description = "also list every metadata key and value" };
        var command = new Command("info", "show what a GGUF model file holds") { model, json, metadata };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            string path = HubModels.Resolve(context, parse.GetValue(model)!);
            using var file = CommonArguments.Open(path);
            var summary = ModelSummary.Of(file, path);
            if (parse.GetValue(json)) WriteJson(context.Out, summary);
            else WriteText(context.Out, summary, parse.GetValue(metadata) ? file : null);
            return 0;
        }));
        return command;
    }

    private static void WriteText(TextWriter o, ModelSummary s, GgufFile? metadata)
    {
        string Or(object? v) => v is null ? "(not set)" : Convert.ToString(v, CultureInfo.InvariantCulture)!;
        o.WriteLine($"file:             {s.Path} ({Bytes(s.FileBytes)}, GGUF v{s.Version}, alignment {s.Alignment})");
        o.WriteLine($"architecture:     {Or(s.Architecture)}");
        o.WriteLine($"name:             {Or(s.Name)}");
        o.WriteLine($"context length:   {Or(s.ContextLength)}");
        o.WriteLine($"embedding length: {Or(s.EmbeddingLength)}");
        o.WriteLine($"blocks:           {Or(s.BlockCount)}");
        o.WriteLine($"heads (kv):       {Or(s.HeadCount)} ({Or(s.HeadCountKv)})");
        o.WriteLine($"tokenizer:        {Or(s.TokenizerModel)}, vocabulary {Or(s.VocabSize)}");
        o.WriteLine($"metadata keys:    {s.MetadataCount}");
        o.WriteLine($"tensors:          {s.TensorCount}, {Bytes(s.TensorBytes)}");
        foreach (var (type, count, bytes) in s.TensorTypes)
            o.WriteLine($"  {type,-8} {count,6} tensors {Bytes(bytes),12}");
        if (metadata is null) return;
        o.WriteLine("metadata:");
        foreach (var key in metadata.MetadataKeys)
        {
            var v = metadata.Metadata[key];
            string text = v.IsArray ? $"[{v.Describe()}]" : v.ToString();
            if (text.Length > 120) text = text[..117] + "...";
            o.WriteLine($"  {key} = {text.ReplaceLineEndings("\\n")}");
        }
    }

    private static void WriteJson(TextWriter o, ModelSummary s) => JsonText.WriteLine(o, j =>
    {
        j.WriteString("path", s.Path);
        j.WriteNumber("file_bytes", s.FileBytes);
        j.WriteNumber("version", s.Version);
        j.WriteNumber("alignment", s.Alignment);
        j.WriteString("architecture", s.Architecture);
        j.WriteString("name", s.Name);
        WriteNullable(j, "context_length", s.ContextLength);
        WriteNullable(j, "embedding_length", s.EmbeddingLength);
        WriteNullable(j, "block_count", s.BlockCount);
        WriteNullable(j, "head_count", s.HeadCount);
        WriteNullable(j, "head_count_kv", s.HeadCountKv);
        j.WriteString("tokenizer_model", s.TokenizerModel);
        WriteNullable(j, "vocab_size", s.VocabSize);
        j.WriteNumber("metadata_count", s.MetadataCount);
        j.WriteNumber("tensor_count", s.TensorCount);
        j.WriteNumber("tensor_bytes", s.TensorBytes);
        j.WriteStartObject("tensor_types");
        foreach (var (type, count, bytes) in s.TensorTypes)
        {
            j.WriteStartObject(type);
            j.WriteNumber("count", count);
            j.WriteNumber("bytes", bytes);
            j.WriteEndObject();
        }
        j.WriteEndObject();
    });

    private static void WriteNullable(System.Text.Json.Utf8JsonWriter j, string name, long? value)
    {
        if (value is { } v) j.WriteNumber(name, v);
        else j.WriteNull(name);
    }

    internal static string Bytes(long n) => n switch
    {
        >= 1L << 30 => $"{n / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{n / (double)(1L << 20):F2} MiB",
        >= 1L << 10 => $"{n / 1024.0:F1} KiB",
        _ => $"{n} B",
    };
}
