namespace Frugal.Models;

/// <summary>Keys and values of one sequence, per layer, for positions [0, Count).</summary>
public abstract class KvCache
{
    /// <summary>Positions stored so far; the next token evaluated sits at this position.</summary>
    public abstract int Count { get; }

    /// <summary>Most positions this cache can hold.</summary>
    public abstract int Capacity { get; }

    /// <summary>Forgets positions from <paramref name="count"/> on (to re-evaluate a shorter prefix).</summary>
    public abstract void Truncate(int count);
}
