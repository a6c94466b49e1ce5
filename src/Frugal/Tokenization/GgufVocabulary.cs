using Frugal.Gguf;

namespace Frugal.Tokenization;

/// <summary>Which of llama.cpp's tokenizer algorithms a vocabulary uses (tokenizer.ggml.model).</summary>
internal enum VocabularyKind
{
    /// <summary>"llama": SentencePiece-style, merges driven by token scores, byte-fallback tokens.</summary>
    SentencePiece,

    /// <summary>"gpt2": byte-level BPE driven by a ranked merge list.</summary>
    BytePairEncoding,
}

/// <summary>
/// The tokenizer.* metadata of a GGUF file, interpreted the way llama.cpp's <c>llama_vocab::impl::load</c> does:
/// the same defaults when keys are absent, the same special-token detection by text, the same end-of-generation
/// set and the same list of tokens that are split out of raw text before tokenization.
/// </summary>
internal sealed partial class GgufVocabulary
{
    public const int None = -1;

    private GgufVocabulary(VocabularyKind kind, string[] texts)
    {
        Kind = kind;
        Texts = texts;
        Ids = new Dictionary<string, int>(texts.Length, StringComparer.Ordinal);
        SpanIds = Ids.GetAlternateLookup<ReadOnlySpan<char>>();
        Scores = new float[texts.Length];
        Attributes = new TokenAttributes[texts.Length];
    }

    public VocabularyKind Kind { get; }

    /// <summary>Token texts by id, as stored in tokenizer.ggml.tokens ("[EMPTY_i]" for empty ones, as llama.cpp).</summary>
    public string[] Texts { get; }

    public float[] Scores { get; }

    public TokenAttributes[] Attributes { get; }

    public Dictionary<string, int> Ids { get; }

    public Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> SpanIds { get; }

    /// <summary>Pre-tokenizer rules (BPE only; the SentencePiece tokenizer splits nothing).</summary>
    public PreTokenizerRules? PreTokenizer { get; private set; }

    /// <summary>tokenizer.ggml.merges split into (left, right) with their rank (BPE only).</summary>
    public Dictionary<(string Left, string Right), int> MergeRanks { get; } = new();

    public int BosId { get; private set; } = None;
    public int EosId { get; private set; } = None;
    public int EotId { get; private set; } = None;
    public int EomId { get; private set; } = None;
    public int UnknownId { get; private set; } = None;
    public int PadId { get; private set; } = None;

    public bool AddBos { get; private set; }
    public bool AddEos { get; private set; }
    public bool AddSpacePrefix { get; private set; }
    public bool IgnoreMerges { get; private set; }

    /// <summary>Whether detokenizing removes spaces before punctuation (llama.cpp's clean_spaces).</summary>
    public bool CleanSpaces { get; private set; }

    public HashSet<int> EndOfGeneration { get; } = [];

    /// <summary>Control, user-defined and unknown tokens, longest text first: what raw text is partitioned by.</summary>
    public int[] SplitTokens { get; private set; } = [];

    public int Count => Texts.Length;

    public int Find(ReadOnlySpan<char> text) => SpanIds.TryGetValue(text, out int id) ? id : None;

    public static GgufVocabulary Load(GgufFile file)
    {
        const string modelKey = "tokenizer.ggml.model";
        string model = file.Find(modelKey)?.Value as string
            ?? throw new TokenizerFormatException(modelKey, "missing: the file has no tokenizer (expected 'llama' or 'gpt2')");
        var kind = model switch
        {
            "llama" => VocabularyKind.SentencePiece,
            "gpt2" => VocabularyKind.BytePairEncoding,
            _ => throw new TokenizerFormatException(modelKey,
                $"'{model}' is not supported (supported: 'llama' = SentencePiece, 'gpt2' = byte-level BPE)"),
        };

        string[] texts = ReadStrings(file, "tokenizer.ggml.tokens")
            ?? throw new TokenizerFormatException("tokenizer.ggml.tokens", "missing: the token list is required");
        var vocab = new GgufVocabulary(kind, (string[])texts.Clone());
        vocab.ReadTokens(file);
        vocab.ReadFlags(file);
        vocab.ReadSpecialIds(file);
        vocab.DetectSpecialTokensByText(file);
        vocab.BuildSplitTokens(file);
        return vocab;
    }

    private void ReadTokens(GgufFile file)
    {
        int n = Texts.Length;
        for (int i = 0; i < n; i++)
        {
            if (Texts[i].Length == 0) Texts[i] = $"[EMPTY_{i}]";
            if (!Ids.TryAdd(Texts[i], i))
                throw new TokenizerFormatException("tokenizer.ggml.tokens", $"duplicate token '{Texts[i]}' has ids {Ids[Texts[i]]} and {i}");
        }

        const string scoresKey = "tokenizer.ggml.scores";
        if (file.Find(scoresKey) is { } scores)
        {
            float[] values = scores.Value switch
            {
                float[] f => f,
                int[] ints => Array.ConvertAll(ints, v => (float)v),
                _ => throw new TokenizerFormatException(scoresKey, $"is {scores.Describe()}, expected an array of float32 or int32"),
            };
            if (values.Length < n) throw new TokenizerFormatException(scoresKey, $"has {values.Length} entries for {n} tokens");
            Array.Copy(values, Scores, n);
        }

        const string typesKey = "tokenizer.ggml.token_type";
        Array.Fill(Attributes, TokenAttributes.Normal);
        if (file.Find(typesKey) is { } types)
        {
            if (types.Value is not int[] t)
                throw new TokenizerFormatException(typesKey, $"is {types.Describe()}, expected an array of int32");
            if (t.Length < n) throw new TokenizerFormatException(typesKey, $"has {t.Length} entries for {n} tokens");
            for (int i = 0; i < n; i++) Attributes[i] = TokenTypeMapping.ToAttributes(t[i]);
        }
    }

    private void ReadFlags(GgufFile file)
    {
        if (Kind == VocabularyKind.SentencePiece)
        {
            BosId = 1;
            EosId = 2;
            UnknownId = 0;
            AddSpacePrefix = true;
            AddBos = true;
        }
        else
        {
            const string mergesKey = "tokenizer.ggml.merges";
            string[] merges = ReadStrings(file, mergesKey)
                ?? throw new TokenizerFormatException(mergesKey, "missing: a 'gpt2' tokenizer needs its merge list");
            for (int i = 0; i < merges.Length; i++)
            {
                // llama.cpp splits at the first space after the first byte; a line without one maps ("", "").
                string m = merges[i];
                int space = m.Length > 1 ? m.IndexOf(' ', 1) : -1;
                var key = space < 0 ? ("", "") : (m[..space], m[(space + 1)..]);
                MergeRanks.TryAdd(key, i);
            }

            BosId = 11;
            EosId = 11;
            string? pre = file.GetString("tokenizer.ggml.pre");
            PreTokenizer = PreTokenizerRules.Resolve(pre);
            IgnoreMerges = PreTokenizer.IgnoreMerges;
            CleanSpaces = PreTokenizer.CleanSpaces;
            AddBos = PreTokenizer.AddBos;
            if (PreTokenizer.NoBos) BosId = None;
        }

        if (file.Find("tokenizer.ggml.add_space_prefix") is { } prefix) AddSpacePrefix = prefix.AsBool();
    }

    private void ReadSpecialIds(GgufFile file)
    {
        BosId = SpecialId(file, "tokenizer.ggml.bos_token_id", BosId);
        EosId = SpecialId(file, "tokenizer.ggml.eos_token_id", EosId);
        EotId = SpecialId(file, "tokenizer.ggml.eot_token_id", EotId);
        EomId = SpecialId(file, "tokenizer.ggml.eom_token_id", EomId);
        UnknownId = SpecialId(file, "tokenizer.ggml.unknown_token_id", UnknownId);
        PadId = SpecialId(file, "tokenizer.ggml.padding_token_id", PadId);

        if (file.Find("tokenizer.ggml.add_bos_token") is { } addBos) AddBos = addBos.AsBool();
        if (file.Find("tokenizer.ggml.add_eos_token") is { } addEos) AddEos = addEos.AsBool();
        if (AddBos && BosId == None)
            throw new TokenizerFormatException("tokenizer.ggml.add_bos_token", "is true, but tokenizer.ggml.bos_token_id is not set");
        if (AddEos && EosId == None)
            throw new TokenizerFormatException("tokenizer.ggml.add_eos_token", "is true, but tokenizer.ggml.eos_token_id is not set");
    }

    /// <summary>A special id from metadata; out-of-range values keep the default, as llama.cpp does (with a warning).</summary>
    private int SpecialId(GgufFile file, string key, int fallback)
    {
        if (fallback >= Count) fallback = None;
        long? id = file.Find(key) is { } v && v.Value is not string && !v.IsArray ? v.AsInt64() : null;
        return id is >= 0 && id < Count ? (int)id.Value : fallback;
    }

    private static string[]? ReadStrings(GgufFile file, string key)
    {
        var v = file.Find(key);
        if (v is null) return null;
        return v.Value as string[] ?? throw new TokenizerFormatException(key, $"is {v.Describe()}, expected an array of strings");
    }
}
