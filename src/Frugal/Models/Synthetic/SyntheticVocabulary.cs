using System.Text;
using Frugal.Gguf;

namespace Frugal.Models.Synthetic;

/// <summary>
/// A small SentencePiece ("llama") vocabulary that llama.cpp accepts: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256
/// byte tokens &lt;0x00&gt;..&lt;0xFF&gt;, then distinct word pieces with descending scores.
/// </summary>
public static class SyntheticVocabulary
{
    public const int Unknown = 0, Bos = 1, Eos = 2, FirstByte = 3;

    /// <summary>Token types as llama.cpp's llama_token_type numbers them.</summary>
    private const int Normal = 1, UnknownType = 2, Control = 3, ByteType = 6;

    /// <param name="controlTokens">control tokens that take the last ids (Phi-3's &lt;|endoftext|&gt;, which llama.cpp
    /// looks up by text when general.name names a Phi-3).</param>
    public static void AddTo(GgufWriter writer, int vocabSize, IReadOnlyList<string>? controlTokens = null)
    {
        if (vocabSize < FirstByte + 256)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), $"a SentencePiece vocabulary with byte fallback needs at least {FirstByte + 256} tokens, got {vocabSize}");
        var tokens = new string[vocabSize];
        var scores = new float[vocabSize];
        var types = new int[vocabSize];
        tokens[Unknown] = "<unk>";
        tokens[Bos] = "<s>";
        tokens[Eos] = "</s>";
        types[Unknown] = UnknownType;
        types[Bos] = types[Eos] = Control;
        for (int b = 0; b < 256; b++)
        {
            tokens[FirstByte + b] = $"<0x{b:X2}>";
            types[FirstByte + b] = ByteType;
        }
        for (int i = FirstByte + 256; i < vocabSize; i++)
        {
            int k = i - (FirstByte + 256);
            tokens[i] = Piece(k);
            scores[i] = -k;
            types[i] = Normal;
        }
        controlTokens ??= [];
        if (vocabSize - controlTokens.Count < FirstByte + 256)
            throw new ArgumentOutOfRangeException(nameof(controlTokens), $"{controlTokens.Count} control tokens leave no room in a vocabulary of {vocabSize}");
        for (int i = 0; i < controlTokens.Count; i++)
        {
            int id = vocabSize - controlTokens.Count + i;
            tokens[id] = controlTokens[i];
            scores[id] = 0;
            types[id] = Control;
        }
        writer.Add("tokenizer.ggml.model", "llama");
        writer.Add("tokenizer.ggml.tokens", tokens);
        writer.Add("tokenizer.ggml.scores", scores);
        writer.Add("tokenizer.ggml.token_type", types);
        writer.Add("tokenizer.ggml.bos_token_id", (uint)Bos);
        writer.Add("tokenizer.ggml.eos_token_id", (uint)Eos);
        writer.Add("tokenizer.ggml.unknown_token_id", (uint)Unknown);
        writer.Add("tokenizer.ggml.add_bos_token", true);
        writer.Add("tokenizer.ggml.add_eos_token", false);
    }

    /// <summary>The k-th word piece: single letters first, then longer letter strings, each after "▁" (a space).</summary>
    private static string Piece(int k)
    {
        var sb = new StringBuilder("\u2581");
        int n = k;
        do
        {
            sb.Append((char)('a' + n % 26));
            n = n / 26 - 1;
        } while (n >= 0);
        return sb.ToString();
    }
}
