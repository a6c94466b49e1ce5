namespace Frugal.Inference.Benchmarking;

/// <summary>Order statistics of benchmark samples.</summary>
public static class SampleStatistics
{
    /// <summary>The middle value (the mean of the two middle ones for an even count).</summary>
    /// <exception cref="ArgumentException">no samples.</exception>
    public static double Median(IEnumerable<double> samples)
    {
        var s = samples.ToArray();
        if (s.Length == 0)
            throw new ArgumentException("the median of no samples is undefined", nameof(samples));
        Array.Sort(s);
        int mid = s.Length / 2;
        return s.Length % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    }

    /// <summary>Sample standard deviation (n - 1); 0 for fewer than two samples.</summary>
    public static double StdDev(IEnumerable<double> samples)
    {
        var s = samples.ToArray();
        if (s.Length < 2)
            return 0;
        double mean = s.Average();
        double sum = 0;
        foreach (double x in s) sum += (x - mean) * (x - mean);
        return Math.Sqrt(sum / (s.Length - 1));
    }
}
