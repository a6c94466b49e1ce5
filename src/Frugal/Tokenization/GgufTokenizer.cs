using System.Collections.Frozen;
using System.Text;

namespace Frugal.Tokenization;

/// <summary>
/// What the SentencePiece and byte-level BPE tokenizers share, following llama.cpp's <c>llama_vocab::impl</c>:
/// special-token partitioning, BOS/EOS, token pieces and <c>llama_detokenize</c>.
/// </summary>
internal abstract class GgufTokenizer : Tokenizer
{
    private readonly FrozenSet<int> _endOfGeneration;

    protected GgufTokenizer(GgufVocabulary vocab)
    {
        Vocab = vocab;
        _endOfGeneration = vocab.EndOfGeneration.ToFrozenSet();
    }

    internal GgufVocabulary Vocab { get; }

    public override int VocabSize => Vocab.Count;

    public override int? BosId => Vocab.BosId < 0 ? null : Vocab.BosId;

    public override int? EosId => Vocab.EosId < 0 ? null : Vocab.EosId;

    public override bool AddBos => Vocab.AddBos;

    public override IReadOnlySet<int> EndOfGeneration => _endOfGeneration;

    public override string TokenText(int id) => Vocab.Texts[CheckId(id)];

    public override TokenAttributes GetAttributes(int id) => Vocab.Attributes[CheckId(id)];

    public override int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 2);
        if (addSpecial && Vocab.AddBos) output.Add(Vocab.BosId);
        bool afterSpecial = true; // the first fragment counts as following a special token (SentencePiece space prefix)
        foreach (var fragment in SpecialTokenSplitter.Split(Vocab, text, parseSpecial))
        {
            if (fragment.IsToken)
            {
                output.Add(fragment.Token);
                afterSpecial = true;
            }
            else
            {
                EncodeText(text.Substring(fragment.Start, fragment.Length), afterSpecial, output);
                afterSpecial = false;
            }
        }
        if (addSpecial && Vocab.AddEos) output.Add(Vocab.EosId);
        return [.. output];
    }

    /// <summary>Tokenizes one raw-text fragment (no special tokens in it) and appends the ids.</summary>
    protected abstract void EncodeText(string text, bool afterSpecial, List<int> output);

    /// <summary>The bytes of a normal token (not control, user-defined or byte).</summary>
    protected abstract void AppendNormalPiece(int id, List<byte> output);

    public override byte[] TokenBytes(int id)
    {
        var bytes = new List<byte>();
        AppendPiece(CheckId(id), special: true, bytes);
        return [.. bytes];
    }

    public override string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false) =>
        Encoding.UTF8.GetString(Detokenize(ids, removeSpecial: false, unparseSpecial: !skipSpecial));

    /// <summary>
    /// llama.cpp's <c>llama_detokenize</c>: pieces concatenated, the first piece's leading space dropped when the
    /// vocabulary adds a space prefix (unless a removed BOS came first), and for vocabularies with clean_spaces the
    /// spaces before ? ! . , and in some apostrophe contractions removed.
    /// </summary>
    public byte[] Detokenize(ReadOnlySpan<int> ids, bool removeSpecial, bool unparseSpecial)
    {
        foreach (int id in ids) CheckId(id);
        bool removeSpace = Vocab.AddSpacePrefix;
        if (removeSpecial && Vocab.AddBos && ids.Length > 0 && ids[0] == Vocab.BosId)
        {
            removeSpace = false;
            ids = ids[1..];
        }
        if (removeSpecial && Vocab.AddEos && ids.Length > 0 && ids[^1] == Vocab.EosId) ids = ids[..^1];

        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            int before = bytes.Count;
            AppendPiece(id, unparseSpecial, bytes);
            if (removeSpace && bytes.Count > before && bytes[before] == (byte)' ') bytes.RemoveAt(before);
            removeSpace = false;
        }
        var text = bytes.ToArray();
        return Vocab.CleanSpaces ? SpaceCleanup.Apply(text) : text;
    }

    /// <summary>llama.cpp's <c>token_to_piece</c> with lstrip = 0.</summary>
    private void AppendPiece(int id, bool special, List<byte> output)
    {
        var attr = Vocab.Attributes[id];
        const TokenAttributes hidden = TokenAttributes.Unknown | TokenAttributes.Control;
        if (!special && (attr & hidden) != 0) return;
        if ((attr & (hidden | TokenAttributes.UserDefined)) != 0)
            output.AddRange(Encoding.UTF8.GetBytes(Vocab.Texts[id]));
        else if ((attr & TokenAttributes.Normal) != 0)
            AppendNormalPiece(id, output);
        else if ((attr & TokenAttributes.Byte) != 0)
            output.Add(ByteOfByteToken(Vocab.Texts[id]));
    }

    /// <summary>"&lt;0xAB&gt;" -> 0xAB; like strtol on text[3..5], unparsable digits end the number.</summary>
    private static byte ByteOfByteToken(string text)
    {
        int value = 0;
        for (int i = 3; i < Math.Min(5, text.Length); i++)
        {
            int digit = HexDigit(text[i]);
            if (digit < 0) break;
            value = value * 16 + digit;
        }
        return (byte)value;

        static int HexDigit(char c) => c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => -1,
        };
    }

    private int CheckId(int id)
    {
        if ((uint)id >= (uint)Vocab.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the vocabulary (0..{Vocab.Count - 1})");
        return id;
    }
}
