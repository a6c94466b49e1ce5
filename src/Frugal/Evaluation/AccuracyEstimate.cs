namespace Frugal.Evaluation;

/// <summary>An accuracy with its 95% Wilson score interval (Wilson 1927), sound also near 0% and 100%.</summary>
public readonly record struct AccuracyEstimate(int Correct, int Total)
{
    private const double Z = 1.959963984540054;

    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    public (double Low, double High) Interval
    {
        get
        {
            if (Total == 0) return (0, 1);
            double n = Total, p = Accuracy, z2 = Z * Z;
            double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
            double half = Z * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
            // At 0 and n correct the bound is 0 (or 1) exactly; the subtraction would leave a rounding residue (3e-18).
            return (Correct == 0 ? 0 : Math.Max(0, centre - half), Correct == Total ? 1 : Math.Min(1, centre + half));
        }
    }
}
