using Frugal.Inference.Sampling;

namespace Frugal.Tests.Inference;

public class LogitBiasTests
{
    private static readonly float[] Logits = [0.5f, 3f, 2f, -1f, 1f];

    [Fact]
    public void Minus_100_on_the_greedy_token_picks_the_second_choice()
    {
        var s = new Sampler(SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [1] = -100 } }, Logits.Length);
        Assert.Equal(2, s.Sample(Logits));
    }

    [Fact]
    public void Plus_100_forces_an_unlikely_token_even_when_sampling()
    {
        var options = new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1, MinP = 0, Seed = 5, LogitBias = new Dictionary<int, float> { [3] = 100 } };
        var s = new Sampler(options, Logits.Length);
        Assert.All(Enumerable.Range(0, 200).Select(_ => s.Sample(Logits)), t => Assert.Equal(3, t));
        Assert.Equal(3, new Sampler(SamplingOptions.Greedy with { LogitBias = options.LogitBias }, Logits.Length).Sample(Logits));
    }

    [Fact]
    public void Minus_infinity_bans_a_token_and_a_small_bias_shifts_the_pick()
    {
        var banned = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = 9, LogitBias = new Dictionary<int, float> { [1] = float.NegativeInfinity } }, Logits.Length);
        Assert.DoesNotContain(1, Enumerable.Range(0, 500).Select(_ => banned.Sample(Logits)));
        // Token 4 (1.0) overtakes token 1 (3.0) only when its bias exceeds 2: 2.5 < 3, 3.5 > 3.
        Assert.Equal(1, new Sampler(SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [4] = 1.5f } }, 5).Sample(Logits));
        Assert.Equal(4, new Sampler(SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [4] = 2.5f } }, 5).Sample(Logits));
    }

    [Fact]
    public void A_bias_outside_the_vocabulary_or_not_finite_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sampler(SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [5] = 1 } }, 5));
        Assert.Contains("token 5", e.Message);
        Assert.Throws<ArgumentException>(() => SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [0] = float.NaN } });
        Assert.Throws<ArgumentException>(() => SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [0] = float.PositiveInfinity } });
    }

    [Fact]
    public void Top_k_1_and_min_p_1_sample_the_greedy_token()
    {
        var logits = Enumerable.Range(0, 64).Select(i => MathF.Sin(i * 0.7f) * 3).ToArray();
        int greedy = new Sampler(SamplingOptions.Greedy, 64).Sample(logits);
        var topK = new Sampler(new SamplingOptions { Temperature = 2, TopK = 1, TopP = 1, MinP = 0, Seed = 1 }, 64);
        var minP = new Sampler(new SamplingOptions { Temperature = 2, TopK = 0, TopP = 1, MinP = 1, Seed = 1 }, 64);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(greedy, topK.Sample(logits)));
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(greedy, minP.Sample(logits)));
    }
}
