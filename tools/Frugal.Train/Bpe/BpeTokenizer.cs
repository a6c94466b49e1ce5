using System.Text;
using System.Text.Json;

namespace Frugal.Train.Bpe;

/// <summary>
/// A byte-level BPE vocabulary: ids 0-255 are the bytes, then one token per merge in rank order, then the special
/// tokens. Encoding is llama.cpp's: pre-tokenize (qwen2 regex), then inside each piece repeatedly apply the
/// lowest-ranked merge.
/// </summary>
public sealed class BpeTokenizer
{
    public const string BosText = "<|bos|>";
    public const string EosText = "<|eos|>";

    private readonly Dictionary<(int, int), int> _mergeRank = [];
    private readonly Dictionary<string, int[]> _cache = [];
    private readonly Lock _cacheLock = new();

    public BpeTokenizer(IReadOnlyList<(int Left, int Right)> merges)
    {
        Merges = merges;
        var tokens = new List<byte[]>();
        for (int b = 0; b < 256; b++) tokens.Add([(byte)b]);
        for (int r = 0; r < merges.Count; r++)
        {
            var (a, b) = merges[r];
            if (a >= tokens.Count || b >= tokens.Count) throw new ArgumentException($"merge {r} refers to a later token");
            _mergeRank[(a, b)] = r;
            tokens.Add([.. tokens[a], .. tokens[b]]);
        }
        TokenBytes = tokens;
        Bos = tokens.Count;
        Eos = tokens.Count + 1;
    }

    public IReadOnlyList<(int Left, int Right)> Merges { get; }
    public IReadOnlyList<byte[]> TokenBytes { get; }
    public int Bos { get; }
    public int Eos { get; }
    public int VocabSize => TokenBytes.Count + 2;

    /// <summary>Token texts as GGUF stores them (byte-level characters; specials verbatim).</summary>
    public string[] GgufTokens() => [.. TokenBytes.Select(b => ByteLevel.Encode(b)), BosText, EosText];

    /// <summary>Merges as GGUF stores them: "left right" in byte-level characters.</summary>
    public string[] GgufMerges() => [.. Merges.Select(m => ByteLevel.Encode(TokenBytes[m.Left]) + " " + ByteLevel.Encode(TokenBytes[m.Right]))];

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var piece in Qwen2PreTokenizer.Split(text)) ids.AddRange(EncodePiece(piece));
        return ids;
    }

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
            if (id < TokenBytes.Count) bytes.AddRange(TokenBytes[id]);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private int[] EncodePiece(string piece)
    {
        lock (_cacheLock)
            if (_cache.TryGetValue(piece, out var hit)) return hit;
        var symbols = Encoding.UTF8.GetBytes(piece).Select(b => (int)b).ToList();
        while (symbols.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (_mergeRank.TryGetValue((symbols[i], symbols[i + 1]), out int r) && r < bestRank) { bestRank = r; best = i; }
            if (best < 0) break;
            symbols[best] = 256 + bestRank;
            symbols.RemoveAt(best + 1);
        }
        var result = symbols.ToArray();
        lock (_cacheLock) _cache[piece] = result;
        return result;
    }

    public void Save(string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(Merges.Select(m => new[] { m.Left, m.Right }).ToArray()));

    public static BpeTokenizer Load(string path)
    {
        var pairs = JsonSerializer.Deserialize<int[][]>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path}: expected a JSON array of [left, right] merges");
        return new BpeTokenizer([.. pairs.Select(p => p.Length == 2 ? (p[0], p[1]) : throw new InvalidDataException($"{path}: a merge must have 2 ids"))]);
    }
}
