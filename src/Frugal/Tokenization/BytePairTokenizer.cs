namespace Frugal.Tokenization;

/// <summary>
/// tokenizer.ggml.model = "gpt2": llama.cpp's <c>llm_tokenizer_bpe</c>. Text is split into words by the
/// pre-tokenizer tokenizer.ggml.pre names, each word is spelled in the GPT-2 byte alphabet, and adjacent symbols
/// are merged lowest merge rank first (leftmost on ties). Vocabularies with ignore_merges (llama3) emit a word
/// that is already a token without merging.
/// </summary>
/// <remarks>
/// Written here rather than taken from Microsoft.ML.Tokenizers: parity needs llama.cpp's pre-tokenizer
/// semantics (its code point classes, its split order per pre type), its ignore_merges rule and its special-token
/// partitioning, which the library's BPE does not reproduce for every pre type.
/// </remarks>
internal sealed class BytePairTokenizer : GgufTokenizer
{
    private readonly PreTokenizerRules _rules;

    public BytePairTokenizer(GgufVocabulary vocab)
        : base(vocab)
    {
        _rules = vocab.PreTokenizer ?? throw new ArgumentException("a BPE vocabulary needs pre-tokenizer rules", nameof(vocab));
    }

    protected override void EncodeText(string text, bool afterSpecial, List<int> output)
    {
        foreach (string word in _rules.Split(text))
            EncodeWord(ByteLevelAlphabet.Encode(word), output);
    }

    private void EncodeWord(string word, List<int> output)
    {
        if (Vocab.IgnoreMerges && Vocab.Find(word) is var whole and >= 0)
        {
            output.Add(whole);
            return;
        }

        // Every byte-level character is one BMP char, so symbols start as single chars.
        int n = word.Length;
        var length = new int[n];
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            length[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        var queue = new PriorityQueue<(int Left, int Right, int Size), (int Rank, int Left)>();
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            var key = (word.Substring(left, length[left]), word.Substring(right, length[right]));
            if (!Vocab.MergeRanks.TryGetValue(key, out int rank)) return;
            queue.Enqueue((left, right, length[left] + length[right]), (rank, left));
        }

        for (int i = 1; i < n; i++) TryAdd(i - 1, i);
        while (queue.TryDequeue(out var bigram, out _))
        {
            var (left, right, size) = bigram;
            // Symbols only grow, so an unchanged total length means the pair is still the one ranked.
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != size) continue;
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            TryAdd(prev[left], left);
            TryAdd(left, next[left]);
        }

        for (int i = 0; i != -1; i = next[i])
        {
            var piece = word.AsSpan(i, length[i]);
            int id = Vocab.Find(piece);
            if (id >= 0)
            {
                output.Add(id);
                continue;
            }
            // llama.cpp then looks each UTF-8 byte of the spelled symbol up as a one-byte token and drops misses.
            foreach (byte b in System.Text.Encoding.UTF8.GetBytes(piece.ToString()))
                if (b < 0x80 && Vocab.Find([(char)b]) is var byteId and >= 0) output.Add(byteId);
        }
    }

    protected override void AppendNormalPiece(int id, List<byte> output) =>
        ByteLevelAlphabet.Decode(Vocab.Texts[id], output);
}
