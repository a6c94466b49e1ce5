namespace Frugal.Inference.KvPaging;

/// <summary>
/// The identity of a full block of tokens in context: a hash of the parent block's hash and this block's tokens,
/// so equal hashes mean equal whole prefixes (vLLM's prefix-caching scheme). Lookups still compare the tokens, so
/// a 64-bit collision can never hand a sequence someone else's K/V.
/// </summary>
public readonly record struct KvBlockHash(ulong Value)
{
    /// <summary>The parent of the first block.</summary>
    public static readonly KvBlockHash Root = new(0x9E3779B97F4A7C15UL);

    public static KvBlockHash Of(KvBlockHash parent, ReadOnlySpan<int> tokens)
    {
        // A multiply-xorshift mix per token (the finalizer of splitmix64): cheap, and every input bit reaches
        // every output bit, so shifted or reordered token runs hash apart.
        ulong h = parent.Value ^ ((ulong)tokens.Length * 0xBF58476D1CE4E5B9UL);
        foreach (int t in tokens)
        {
            h ^= (uint)t;
            h *= 0x94D049BB133111EBUL;
            h ^= h >> 31;
            h *= 0xBF58476D1CE4E5B9UL;
            h ^= h >> 29;
        }
        return new KvBlockHash(h);
    }
}
