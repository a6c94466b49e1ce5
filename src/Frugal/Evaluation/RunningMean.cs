namespace Frugal.Evaluation;

/// <summary>
/// A running mean with the standard error llama.cpp's perplexity tool gives it: sqrt((E[x²] - E[x]²) / (n - 1)),
/// 0 when the variance rounds to 0 or below, or when there is a single value.
/// </summary>
public struct RunningMean
{
    public double Sum { get; private set; }
    public double SumOfSquares { get; private set; }
    public int Count { get; private set; }

    public void Add(double value)
    {
        Sum += value;
        SumOfSquares += value * value;
        Count++;
    }

    public readonly double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>E[x²] - E[x]², the population variance.</summary>
    public readonly double Variance => Count == 0 ? 0 : SumOfSquares / Count - Mean * Mean;

    public readonly double StandardError => Variance > 0 && Count > 1 ? Math.Sqrt(Variance / (Count - 1)) : 0;
}
