namespace Frugal.Evaluation;

/// <summary>
/// A seeded random source whose sequence is fixed by this code alone (SplitMix64, Steele et al. 2014), so a corpus
/// or a training run is reproducible across .NET versions; <see cref="Random"/>'s seeded sequence is not promised.
/// </summary>
public sealed class SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [0, bound).</summary>
    public int Next(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), bound, "bound must be positive");
        return (int)(NextUInt64() % (ulong)bound);
    }

    /// <summary>Uniform integer in [low, high).</summary>
    public int Next(int low, int high) => low + Next(high - low);

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal sample (Box-Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>A seed for an independent stream derived from this one and a label, for e.g. one stream per task.</summary>
    public static ulong Derive(ulong seed, string label) => HeldOutSplit.Fnv1a(label) ^ (seed * 0x9E3779B97F4A7C15UL);
}
