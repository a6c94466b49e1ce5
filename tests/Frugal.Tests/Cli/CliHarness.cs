using Frugal.Cli;
using Frugal.Gguf;
using Frugal.Models;
using Frugal.Numerics;
using Frugal.Planning;
using Frugal.Tests.Inference;
using Frugal.Tokenization;

namespace Frugal.Tests.Cli;

/// <summary>Runs the frugal command line in-process and keeps fixture files in a private temp folder.</summary>
internal sealed class CliHarness : IDisposable
{
    public CliHarness()
    {
        Directory = Path.Combine(Path.GetTempPath(), "frugal-cli-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Environment["FRUGAL_HOME"] = Path.Combine(Directory, "home");
    }

    public string Directory { get; }

    public sealed record Outcome(int ExitCode, string Out, string Error);

    /// <summary>Runs the CLI; without loaders given, it uses the product's ModelLoader and Tokenizer.FromGguf.</summary>
    public Outcome Run(Func<GgufFile, ILanguageModel>? model, Func<GgufFile, Tokenizer>? tokenizer, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr)
        {
            LoadModel = model is null ? ModelLoader.Load : (file, _) => model(file),
            LoadTokenizer = tokenizer ?? Tokenizer.FromGguf,
            DemoDirectory = Path.Combine(Directory, "demo"),
            DefaultModelPath = DefaultModelPath ?? Path.Combine(AppContext.BaseDirectory, "models", "frugal-main.gguf"),
            In = new StringReader(Stdin ?? ""),
            InputRedirected = Stdin is not null,
            ErrorIsTerminal = false,
            GetEnvironmentVariable = name => Environment.GetValueOrDefault(name),
            MeasureMachine = (_, _, _) => Machine, // fixed figures: no test times anything
        };
        int code = FrugalCli.Run(args, context);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }

    public Outcome Run(params string[] args) => Run(null, null, args);

    /// <summary>The machine <c>frugal plan</c> sees (fixed figures, no probe runs).</summary>
    public MachineProfile Machine { get; set; } = Frugal.Tests.Planning.PlanFixtures.Machine();

    /// <summary>What the CLI reads as piped standard input; null = a terminal (nothing piped).</summary>
    public string? Stdin { get; set; }
    /// <summary>
    /// The only environment variables the CLI sees (HF_ENDPOINT, HF_TOKEN, FRUGAL_HOME); FRUGAL_HOME starts as a folder of
    /// this harness, so no test touches the user's model cache.
    /// </summary>
    public Dictionary<string, string?> Environment { get; } = new();

    /// <summary>The built-in model path the CLI sees; null = the real one copied beside the build output.</summary>
    public string? DefaultModelPath { get; set; }

    /// <summary>Runs with the byte-level fake tokenizer and a fake model that spells <paramref name="script"/> after the prompt.</summary>
    public Outcome RunFake(string script, int contextLength, params string[] args) =>
        Run(_ => ScriptedModel(script, contextLength), _ => new ByteTokenizer(), args);

    /// <summary>A model that answers any prompt with <paramref name="script"/> then EOS.</summary>
    public static FakeModel ScriptedModel(string script, int contextLength = 64, int headDim = 8)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(script);
        // The script starts after the prompt, whose length is that of the first (prefill) Forward call.
        int start = -1;
        FakeModel? m = null;
        m = new FakeModel((pos, _) =>
        {
            if (start < 0) start = m!.ForwardLengths[0];
            int i = pos + 1 - start;
            return i < 0 ? 0 : i < bytes.Length ? bytes[i] : ByteTokenizer.Eos;
        }, contextLength: contextLength, headDim: headDim);
        return m;
    }

    /// <summary>Writes a GGUF file with Llama-style metadata, an F32 and a Q8_0 tensor.</summary>
    public string WriteModel(string name, string architecture = "llama", GgmlType secondType = GgmlType.Q8_0)
    {
        var w = new GgufWriter()
            .Add("general.architecture", architecture)
            .Add("general.name", "tiny test model")
            .Add($"{architecture}.context_length", 256u)
            .Add($"{architecture}.embedding_length", 32u)
            .Add($"{architecture}.block_count", 2u)
            .Add($"{architecture}.attention.head_count", 4u)
            .Add($"{architecture}.attention.head_count_kv", 2u)
            .Add("tokenizer.ggml.model", "gpt2")
            .Add("tokenizer.ggml.tokens", ["a", "b", "c", "d", "é"]);
        w.AddTensor("token_embd.weight", [32, 5], new float[160]);
        w.AddTensor("blk.0.attn_q.weight", secondType, [256, 2], new byte[GgmlTypeInfo.RowBytes(secondType, 512)]);
        string path = Path.Combine(Directory, name);
        w.WriteTo(path);
        return path;
    }

    public string WriteBytes(string name, byte[] bytes)
    {
        string path = Path.Combine(Directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
