using Frugal.Gguf;

namespace Frugal.Tokenization;

/// <summary>
/// Text to token ids and back, built from a GGUF file's tokenizer.* metadata so that it gives exactly the ids
/// llama.cpp gives for the same file.
/// </summary>
public abstract class Tokenizer
{
    /// <summary>Builds the tokenizer a GGUF file describes (tokenizer.ggml.model = llama | gpt2).</summary>
    public static Tokenizer FromGguf(GgufFile file) =>
        throw new NotSupportedException($"tokenizer.ggml.model '{file.GetString("tokenizer.ggml.model")}' is not supported yet");

    public abstract int VocabSize { get; }

    public abstract int? BosId { get; }

    public abstract int? EosId { get; }

    /// <summary>Whether llama.cpp adds BOS when encoding with special tokens (tokenizer.ggml.add_bos_token).</summary>
    public abstract bool AddBos { get; }

    /// <summary>Ids that end generation (EOS, EOT, end-of-turn tokens).</summary>
    public abstract IReadOnlySet<int> EndOfGeneration { get; }

    /// <summary>Encodes like llama.cpp's llama_tokenize(text, add_special, parse_special).</summary>
    public abstract int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true);

    /// <summary>The raw bytes one token stands for (may be part of a UTF-8 character).</summary>
    public abstract byte[] TokenBytes(int id);

    /// <summary>Decodes ids to text; invalid UTF-8 becomes U+FFFD.</summary>
    public abstract string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false);
}
