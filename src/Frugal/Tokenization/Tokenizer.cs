using Frugal.Gguf;

namespace Frugal.Tokenization;

/// <summary>
/// Text to token ids and back, built from a GGUF file's tokenizer.* metadata so that it gives exactly the ids
/// llama.cpp gives for the same file.
/// </summary>
public abstract class Tokenizer
{
    /// <summary>Builds the tokenizer a GGUF file describes (tokenizer.ggml.model = llama | gpt2).</summary>
    /// <exception cref="TokenizerFormatException">the tokenizer metadata is missing, malformed, or names a tokenizer
    /// model or pre-tokenizer this library does not implement.</exception>
    public static Tokenizer FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var vocab = GgufVocabulary.Load(file);
        return vocab.Kind switch
        {
            VocabularyKind.SentencePiece => new SentencePieceTokenizer(vocab),
            _ => new BytePairTokenizer(vocab),
        };
    }

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

    /// <summary>
    /// Decodes ids to text like llama.cpp's llama_detokenize(remove_special: false, unparse_special: !skipSpecial):
    /// a SentencePiece vocabulary drops the leading space of the first piece, and vocabularies with clean_spaces
    /// (llama3, gpt2) remove spaces before ? ! . , as llama.cpp does. Invalid UTF-8 becomes U+FFFD.
    /// For streaming output use <see cref="StreamingDetokenizer"/>, which concatenates raw pieces.
    /// </summary>
    public abstract string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false);

    /// <summary>The token's text as stored in the vocabulary (byte-level or "▁" spelling, not decoded).</summary>
    public virtual string TokenText(int id) => throw new NotSupportedException($"{GetType().Name} does not expose token texts");

    /// <summary>The token's attributes (control, user-defined, byte, ...) as llama.cpp assigns them.</summary>
    public virtual TokenAttributes GetAttributes(int id) => TokenAttributes.Normal;

    /// <summary>Whether generating this id ends the generation.</summary>
    public bool IsEndOfGeneration(int id) => EndOfGeneration.Contains(id);
}
