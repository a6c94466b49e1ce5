using System.Text;
using Frugal.Models;
using Frugal.Tokenization;

namespace Frugal.Tests.Inference;

/// <summary>
/// A byte-level tokenizer: ids 0..255 are single bytes, 256 = BOS "&lt;s&gt;", 257 = EOS "&lt;/s&gt;",
/// 258 = EOT "&lt;|eot|&gt;". Multi-byte UTF-8 characters span several tokens, which exercises the streaming decoder.
/// </summary>
internal sealed class ByteTokenizer : Tokenizer
{
    public const int Bos = 256, Eos = 257, Eot = 258;

    private static readonly string[] Specials = ["<s>", "</s>", "<|eot|>"];

    public override int VocabSize => 259;
    public override int? BosId => Bos;
    public override int? EosId => Eos;
    public override bool AddBos => true;
    public override IReadOnlySet<int> EndOfGeneration { get; } = new HashSet<int> { Eos, Eot };

    public override int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true)
    {
        var ids = new List<int>();
        if (addSpecial) ids.Add(Bos);
        foreach (byte b in Encoding.UTF8.GetBytes(text)) ids.Add(b);
        return [.. ids];
    }

    public override byte[] TokenBytes(int id) =>
        id < 256 ? [(byte)id] : Encoding.UTF8.GetBytes(Specials[id - 256]);

    public override TokenAttributes GetAttributes(int id) => id < 256 ? TokenAttributes.Normal : TokenAttributes.Control;

    public override string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
            if (id < 256 || !skipSpecial) bytes.AddRange(TokenBytes(id));
        return Encoding.UTF8.GetString([.. bytes]);
    }
}

internal sealed class FakeCache(int capacity) : KvCache
{
    public List<int> Tokens { get; } = [];
    public override int Count => Tokens.Count;
    public override int Capacity => capacity;
    public override void Truncate(int count) => Tokens.RemoveRange(count, Tokens.Count - count);
}

/// <summary>
/// A model whose logits at each position are a deterministic function of (position, token): the token that
/// <paramref name="next"/> names gets logit 8, every other id a small hash-derived value in [-1, 1).
/// It records the KV cache types every cache was asked for (<paramref name="headDim"/> is what a caller checks them against).
/// </summary>
internal sealed class FakeModel(Func<int, int, int> next, int vocabSize = 259, int contextLength = 64, int headDim = 8) : ILanguageModel
{
    public ModelConfig Config { get; } = new()
    {
        Architecture = "fake", VocabSize = vocabSize, ContextLength = contextLength, EmbeddingLength = 8, BlockCount = 1,
        HeadCount = 1, HeadCountKv = 1, HeadDim = headDim, FeedForwardLength = 8, RmsNormEpsilon = 1e-5f, RopeFreqBase = 10000,
    };

    /// <summary>Length of every Forward call, in order.</summary>
    public List<int> ForwardLengths { get; } = [];

    /// <summary>The KV cache types of every CreateCache call, in order.</summary>
    public List<Frugal.Numerics.Attention.KvCacheTypes> CacheTypes { get; } = [];

    public KvCache CreateCache(int maxTokens, Frugal.Numerics.Attention.KvCacheTypes types = default)
    {
        CacheTypes.Add(types);
        return new FakeCache(maxTokens);
    }

    /// <summary>The logits row the model gives for <paramref name="token"/> at <paramref name="position"/>.</summary>
    public void Row(int position, int token, Span<float> row)
    {
        for (int i = 0; i < row.Length; i++)
        {
            uint h = (uint)(position * 73856093) ^ (uint)(token * 19349663) ^ (uint)(i * 83492791);
            h = (h ^ (h >> 13)) * 0x5bd1e995;
            row[i] = (h >> 8) / (float)(1 << 24) * 2 - 1;
        }
        row[next(position, token)] = 8;
    }

    public void Forward(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, bool allLogits = false)
    {
        var c = (FakeCache)cache;
        if (c.Count + tokens.Length > c.Capacity)
            throw new InvalidOperationException($"cache overflow: {c.Count} + {tokens.Length} > {c.Capacity}");
        ForwardLengths.Add(tokens.Length);
        int v = Config.VocabSize;
        for (int i = 0; i < tokens.Length; i++)
        {
            int pos = c.Count;
            c.Tokens.Add(tokens[i]);
            if (allLogits) Row(pos, tokens[i], logits.Slice(i * v, v));
            else if (i == tokens.Length - 1) Row(pos, tokens[i], logits[..v]);
        }
    }

    public void Dispose() { }
}
