using Frugal.Models.Synthetic;
using Frugal.Tests.Architecture;
using Frugal.Tokenization.ChatTemplates;

namespace Frugal.Tests.Tools;

/// <summary>The real chat templates of the tool-calling families (Fixtures/chat/templates), and random-weight models that carry them.</summary>
internal static class ToolTemplates
{
    public const string Qwen25 = "qwen2_5.jinja", Qwen3 = "qwen3.jinja", Llama32 = "meta-llama-Llama-3.2-3B-Instruct.jinja",
        MistralNemo = "mistralai-Mistral-Nemo-Instruct-2407.jinja";

    /// <summary>A weather function whose arguments a random model can finish: bounded string, integer, enum.</summary>
    public const string WeatherSchema = """
        {"type":"object","properties":{"city":{"type":"string","maxLength":8},"days":{"type":"integer"},"unit":{"enum":["c","f"]}},"required":["city","days"]}
        """;

    public static string Source(string file) =>
        File.ReadAllText(Path.Combine(LayerDirectionTests.RepoRoot(), "tests", "Frugal.Tests", "Fixtures", "chat", "templates", file));

    /// <summary>The template as a GGUF file would give it, with the family's BOS and EOS text.</summary>
    public static ChatTemplate Template(string file) => file switch
    {
        Qwen25 or Qwen3 => new ChatTemplate(Source(file), null, "<|im_end|>"),
        Llama32 => new ChatTemplate(Source(file), "<|begin_of_text|>", "<|eot_id|>") { Clock = () => new DateTimeOffset(2024, 7, 26, 0, 0, 0, TimeSpan.Zero) },
        _ => new ChatTemplate(Source(file), "<s>", "</s>"),
    };

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> Models = new();

    /// <summary>The tiny random-weight llama (byte-fallback vocabulary, context 8192) with this template in tokenizer.chat_template.</summary>
    public static string ModelWith(string file) => Models.GetOrAdd(file, f => new Lazy<string>(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "frugal-tests", "tools");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(f)}-{Environment.ProcessId}.gguf");
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, seed: 77) with { ContextLength = 8192 };
        SyntheticModelWriter.Build(spec).Add("tokenizer.chat_template", Source(f)).WriteTo(path);
        return path;
    })).Value;
}
