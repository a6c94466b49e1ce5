using Frugal.Inference.Speculation;

namespace Frugal.Tests.Speculation;

/// <summary>The controller's measured step costs on a shared, noisy machine: a preempted step is one outlier, not a verdict.</summary>
public sealed class SpeculationControllerNoiseTests
{
    [Fact]
    public void One_stretched_step_does_not_price_a_good_draft_length_out()
    {
        var controller = new SpeculationController(maxDraft: 8, costPerToken: 0.12);
        for (int i = 0; i < 20; i++) { int k = Math.Max(1, controller.NextLength()); controller.Record(k, k); }
        for (int k = 1; k <= 8; k++)
            for (int i = 0; i < 3; i++) controller.ObserveCost(k, 1 + 0.3 * k);
        Assert.Equal(8, controller.NextLength());
        // The thread lost its core for a while during one 8-token step: measured as 30 plain steps.
        controller.ObserveCost(8, 30.0);
        Assert.Equal(8, controller.NextLength());
        // Steps of that length that keep measuring slow do move it.
        for (int i = 0; i < 3; i++) controller.ObserveCost(8, 30.0);
        Assert.NotEqual(8, controller.NextLength());
    }

    [Fact]
    public void The_recent_median_is_the_middle_of_the_last_five_observations()
    {
        var m = new RecentMedian();
        Assert.True(m.IsEmpty);
        Assert.Equal(0, m.Value);
        m.Add(3);
        Assert.Equal(3, m.Value);
        m.Add(100);
        Assert.Equal(100, m.Value);   // the upper of two
        m.Add(1);
        Assert.Equal(3, m.Value);
        foreach (double x in new[] { 2.0, 2.5, 2.2, 2.4, 2.3 }) m.Add(x);   // 3, 100 and 1 have left the window
        Assert.Equal(2.3, m.Value);
    }
}
