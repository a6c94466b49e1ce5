using System.Text;

namespace Frugal.Tokenization;

/// <summary>
/// tokenizer.ggml.model = "llama": llama.cpp's <c>llm_tokenizer_spm</c>. Spaces become "▁" (with a "▁" prefix
/// at the start and after each special token when add_space_prefix is set), then adjacent symbols are merged
/// greedily, highest-scoring resulting token first (leftmost on ties); symbols that are no token fall back to
/// &lt;0xNN&gt; byte tokens.
/// </summary>
/// <remarks>
/// Written here rather than taken from Microsoft.ML.Tokenizers: its SentencePiece BPE model loads a
/// .model protobuf and merges by its own rules, while parity needs llama.cpp's score-driven merge over the GGUF
/// vocabulary, its space-prefix rule per fragment and its byte fallback.
/// </remarks>
internal sealed class SentencePieceTokenizer : GgufTokenizer
{
    private const char Escape = '\u2581';
    private readonly int[] _byteTokens = new int[256];

    public SentencePieceTokenizer(GgufVocabulary vocab)
        : base(vocab)
    {
        for (int b = 0; b < 256; b++)
        {
            int id = vocab.Find($"<0x{b:X2}>");
            if (id < 0 && b < 0x80) id = vocab.Find(((char)b).ToString());
            _byteTokens[b] = id; // -1: llama.cpp would fail on this byte; Encode throws when it is needed
        }
    }

    protected override void EncodeText(string text, bool afterSpecial, List<int> output)
    {
        string s = (Vocab.AddSpacePrefix && afterSpecial ? " " + text : text).Replace(' ', Escape);

        // Symbols are code points: [start, start + length) in s, in a doubly linked list.
        var cps = CodepointClasses.Decode(s, out int[] charStart);
        int n = cps.Length;
        if (n == 0) return;
        var start = new int[n];
        var length = new int[n];
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            start[i] = charStart[i];
            length[i] = charStart[i + 1] - charStart[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // Highest score first, then leftmost: llama.cpp's llm_bigram_spm comparator.
        var queue = new PriorityQueue<(int Left, int Right, int Size), (float Score, int Left)>(BigramOrder.Instance);
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            int size = length[left] + length[right];
            int id = Vocab.Find(s.AsSpan(start[left], size));
            if (id < 0) return;
            queue.Enqueue((left, right, size), (Vocab.Scores[id], left));
        }

        for (int i = 1; i < n; i++) TryAdd(i - 1, i);
        while (queue.TryDequeue(out var bigram, out _))
        {
            var (left, right, size) = bigram;
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
            var piece = s.AsSpan(start[i], length[i]);
            int id = Vocab.Find(piece);
            if (id >= 0)
            {
                output.Add(id);
                continue;
            }
            // Not a token: emit its UTF-8 bytes as byte tokens.
            foreach (byte b in Encoding.UTF8.GetBytes(piece.ToString()))
            {
                int byteId = _byteTokens[b];
                if (byteId < 0)
                    throw new InvalidOperationException($"the vocabulary has no byte token <0x{b:X2}> to spell '{piece}'");
                output.Add(byteId);
            }
        }
    }

    protected override void AppendNormalPiece(int id, List<byte> output) =>
        output.AddRange(Encoding.UTF8.GetBytes(Vocab.Texts[id].Replace(Escape, ' ')));

    private sealed class BigramOrder : IComparer<(float Score, int Left)>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare((float Score, int Left) x, (float Score, int Left) y)
        {
            int c = y.Score.CompareTo(x.Score);
            return c != 0 ? c : x.Left.CompareTo(y.Left);
        }
    }
}
