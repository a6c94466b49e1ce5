using Frugal.Gguf;
using Frugal.Inference.Engine;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Tokenization;

namespace Frugal.Tests.Engine;

/// <summary>
/// A tiny random-weight llama written once per test run, with a ChatML chat template in tokenizer.chat_template,
/// shared by the engine, server and chat-client tests.
/// </summary>
internal static class ServingModels
{
    public const string ChatMl =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    private static readonly Lazy<string> TinyPath = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "frugal-tests", "serving");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"tiny-chatml-{Environment.ProcessId}.gguf");
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, seed: 77) with { ContextLength = 256 };
        SyntheticModelWriter.Build(spec).Add("tokenizer.chat_template", ChatMl).WriteTo(path);
        return path;
    });

    /// <summary>The path of the tiny ChatML llama (context 256, vocab 512).</summary>
    public static string Tiny => TinyPath.Value;

    public static Tokenizer TinyTokenizer()
    {
        using var file = GgufFile.Open(Tiny);
        return Tokenizer.FromGguf(file);
    }

    public static InferenceEngine TinyEngine(EngineOptions? options = null) =>
        new(ModelLoader.Load(Tiny), TinyTokenizer(), options);

    public static async Task<bool> EventuallyAsync(Func<Task<bool>> done, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!await done())
        {
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(20);
        }
        return true;
    }

    /// <summary>Waits (bounded) until the engine's gauges say <paramref name="done"/>; the engine publishes them after each step.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> done, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!done())
        {
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(10);
        }
        return true;
    }
}
