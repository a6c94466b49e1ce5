using System.Text;

namespace Frugal.Train.Bpe;

/// <summary>
/// Learns byte-level BPE merges (Sennrich et al. 2016; GPT-2's byte-level variant) from a text sample: counts the
/// pre-tokenized pieces, then repeatedly merges the most frequent adjacent pair (ties broken by the smaller pair
/// of ids, so the result is deterministic) until the vocabulary reaches its size or no pair occurs twice.
/// </summary>
public static class BpeTrainer
{
    public static BpeTokenizer Train(IEnumerable<string> texts, int vocabSize)
    {
        const int specials = 2;
        if (vocabSize < 256 + specials) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "vocabulary must hold the 256 bytes and 2 specials");
        var counts = new Dictionary<string, long>();
        foreach (var text in texts)
            foreach (var piece in Qwen2PreTokenizer.Split(text))
                counts[piece] = counts.GetValueOrDefault(piece) + 1;
        var words = counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: Encoding.UTF8.GetBytes(kv.Key).Select(b => (int)b).ToList(), Count: kv.Value)).ToList();
        var merges = new List<(int, int)>();
        int next = 256;
        while (next + specials < vocabSize)
        {
            var pairs = new Dictionary<(int, int), long>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            (int, int) best = default;
            long bestCount = 1;
            foreach (var (pair, count) in pairs)
                if (count > bestCount || (count == bestCount && count > 1 && pair.CompareTo(best) < 0)) { best = pair; bestCount = count; }
            if (bestCount < 2) break;
            merges.Add(best);
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                    {
                        symbols[i] = next;
                        symbols.RemoveAt(i + 1);
                    }
            next++;
        }
        return new BpeTokenizer(merges);
    }
}
