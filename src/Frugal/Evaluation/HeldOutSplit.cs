using System.Text;

namespace Frugal.Evaluation;

/// <summary>
/// Splits every generated item into train or held-out by a hash of its canonical form (e.g. "123+456" or the list
/// being copied), so held-out sets are disjoint from training whatever seeds are used: the training generator
/// rejects held-out items and the evaluation generator keeps only them.
/// </summary>
public static class HeldOutSplit
{
    /// <summary>One item in this many is held out.</summary>
    public const int Modulus = 8;

    public static bool IsHeldOut(string canonical) => Fnv1a(canonical) % Modulus == 0;

    /// <summary>64-bit FNV-1a over the UTF-8 bytes: fixed by this code, unlike string.GetHashCode.</summary>
    public static ulong Fnv1a(string text)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return h;
    }
}
