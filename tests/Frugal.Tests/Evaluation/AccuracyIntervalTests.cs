using Frugal.Evaluation;

namespace Frugal.Tests.Evaluation;

public class AccuracyIntervalTests
{
    private const double Z = 1.959963984540054;

    [Theory]
    [InlineData(20)]
    [InlineData(100)]
    [InlineData(500)]
    public void None_or_all_correct_give_exact_bounds_and_the_closed_form_other_end(int n)
    {
        // Wilson at p = 0: [0, z²/(n+z²)]; at p = 1: [n/(n+z²), 1].
        var none = new AccuracyEstimate(0, n).Interval;
        var all = new AccuracyEstimate(n, n).Interval;
        Assert.Equal(0.0, none.Low);
        Assert.Equal(Z * Z / (n + Z * Z), none.High, 1e-12);
        Assert.Equal(1.0, all.High);
        Assert.Equal(n / (n + Z * Z), all.Low, 1e-12);
    }

    [Fact]
    public void Interval_brackets_the_accuracy_and_narrows_with_more_items()
    {
        var small = new AccuracyEstimate(9, 10);
        var large = new AccuracyEstimate(900, 1000);
        Assert.True(small.Interval.Low < 0.9 && 0.9 < small.Interval.High);
        Assert.True(large.Interval.Low < 0.9 && 0.9 < large.Interval.High);
        Assert.True(large.Interval.High - large.Interval.Low < small.Interval.High - small.Interval.Low);
    }
}
