using Frugal.Inference.Sampling;

namespace Frugal.Tests.Inference;

public class SamplerTests
{
    private static float[] LogitsFromProbabilities(params double[] p) => p.Select(x => (float)Math.Log(x)).ToArray();

    /// <summary>Empirical frequency of each id over <paramref name="draws"/> samples.</summary>
    private static double[] Frequencies(Sampler s, float[] logits, int draws)
    {
        var counts = new double[logits.Length];
        for (int i = 0; i < draws; i++) counts[s.Sample(logits)]++;
        return counts.Select(c => c / draws).ToArray();
    }

    private static SamplingOptions Plain(ulong seed = 1) => new() { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = seed };

    [Fact]
    public void Temperature_zero_is_greedy_and_picks_the_first_maximum()
    {
        var s = new Sampler(SamplingOptions.Greedy, 5);
        Assert.Equal(3, s.Sample([0.1f, -2f, 0.5f, 4f, 4f]));
        Assert.Equal(0, s.Sample([9f, -2f, 0.5f, 4f, 4f]));
    }

    [Fact]
    public void Same_seed_gives_the_same_tokens_and_another_seed_differs()
    {
        var logits = Enumerable.Range(0, 50).Select(i => (float)Math.Sin(i)).ToArray();
        int[] Draw(ulong seed)
        {
            var s = new Sampler(new SamplingOptions { Seed = seed, TopK = 0, TopP = 1, MinP = 0, Temperature = 1.5f }, 50);
            return Enumerable.Range(0, 64).Select(_ => s.Sample(logits)).ToArray();
        }
        Assert.Equal(Draw(42), Draw(42));
        Assert.NotEqual(Draw(42), Draw(43));
    }

    [Fact]
    public void Xoshiro256_starstar_matches_the_reference_algorithm()
    {
        // Outputs of Vigna's xoshiro256starstar.c from state {1, 2, 3, 4}, and from the state that splitmix64.c
        // seeded with 0 produces (its first output is the published 0xE220A8397B1DCDAF).
        var r = new SamplerRandom(1, 2, 3, 4);
        Assert.Equal([0x2d00UL, 0UL, 0x5a007080UL, 0x10e0000000009d80UL], Enumerable.Range(0, 4).Select(_ => r.NextUInt64()));
        var seeded = new SamplerRandom(0);
        Assert.Equal([0x99ec5f36cb75f2b4UL, 0xbf6e1f784956452aUL, 0x1a5f849d4933e6e0UL], Enumerable.Range(0, 3).Select(_ => seeded.NextUInt64()));
    }

    [Fact]
    public void Huge_logits_do_not_overflow_the_probabilities()
    {
        // exp(200) overflows float: a softmax without the max subtracted turns these into NaN and always draws the last id.
        float[] logits = [200f + MathF.Log(0.5f), 200f + MathF.Log(0.3f), 200f + MathF.Log(0.2f)];
        var f = Frequencies(new Sampler(Plain(3) with { TopP = 0.95f }, 3), logits, 20000);
        Assert.InRange(f[0], 0.48, 0.52);
        Assert.InRange(f[1], 0.28, 0.32);
        Assert.InRange(f[2], 0.18, 0.22);
    }

    [Fact]
    public void Dist_sampling_follows_the_softmax_probabilities()
    {
        var f = Frequencies(new Sampler(Plain(7), 3), LogitsFromProbabilities(0.5, 0.3, 0.2), 40000);
        Assert.InRange(f[0], 0.49, 0.51);
        Assert.InRange(f[1], 0.29, 0.31);
        Assert.InRange(f[2], 0.19, 0.21);
    }

    [Fact]
    public void Temperature_sharpens_and_flattens_the_distribution()
    {
        var logits = LogitsFromProbabilities(0.5, 0.3, 0.2);
        // At temperature T the probabilities are p^(1/T) renormalized.
        var cold = Frequencies(new Sampler(Plain(3) with { Temperature = 0.5f }, 3), logits, 40000);
        double z = 0.25 + 0.09 + 0.04;
        Assert.InRange(cold[0], 0.25 / z - 0.01, 0.25 / z + 0.01);
        Assert.InRange(cold[2], 0.04 / z - 0.01, 0.04 / z + 0.01);
        var hot = Frequencies(new Sampler(Plain(3) with { Temperature = 100f }, 3), logits, 40000);
        Assert.All(hot, x => Assert.InRange(x, 0.32, 0.345));
    }

    [Fact]
    public void Top_k_keeps_only_the_k_highest_logits_renormalized()
    {
        var logits = new float[100];
        for (int i = 0; i < 100; i++) logits[i] = (i * 37 % 100) / 50f; // a permutation of 0 .. 1.98
        int[] top3 = Enumerable.Range(0, 100).OrderByDescending(i => logits[i]).Take(3).ToArray();
        var f = Frequencies(new Sampler(Plain(5) with { TopK = 3 }, 100), logits, 30000);
        Assert.Equal(top3.OrderBy(i => i), Enumerable.Range(0, 100).Where(i => f[i] > 0));
        double z = top3.Sum(i => Math.Exp(logits[i]));
        foreach (int i in top3) Assert.InRange(f[i], Math.Exp(logits[i]) / z - 0.015, Math.Exp(logits[i]) / z + 0.015);
    }

    [Fact]
    public void Top_k_one_is_greedy_whatever_the_seed()
    {
        var logits = new float[1000];
        for (int i = 0; i < logits.Length; i++) logits[i] = (i * 7919 % 1000) / 100f;
        int argmax = Array.IndexOf(logits, logits.Max());
        for (ulong seed = 0; seed < 20; seed++)
            Assert.Equal(argmax, new Sampler(Plain(seed) with { TopK = 1 }, 1000).Sample(logits));
    }

    [Theory]
    [InlineData(0.75f, 2)] // 0.5 < 0.75 <= 0.8: the token that crosses p is kept
    [InlineData(0.85f, 3)]
    [InlineData(0.0f, 1)]  // at least one token
    [InlineData(0.5f, 1)]
    public void Top_p_keeps_the_smallest_prefix_reaching_p(float p, int kept)
    {
        var logits = LogitsFromProbabilities(0.05, 0.5, 0.15, 0.3); // sorted: 1 (0.5), 3 (0.3), 2 (0.15), 0 (0.05)
        int[] order = [1, 3, 2, 0];
        var f = Frequencies(new Sampler(Plain(11) with { TopP = p }, 4), logits, 20000);
        Assert.Equal(order.Take(kept).OrderBy(i => i), Enumerable.Range(0, 4).Where(i => f[i] > 0));
    }

    [Fact]
    public void Min_p_drops_tokens_below_p_times_the_top_probability()
    {
        var logits = LogitsFromProbabilities(0.5, 0.3, 0.15, 0.05);
        var f = Frequencies(new Sampler(Plain(13) with { MinP = 0.2f }, 4), logits, 20000); // threshold 0.1
        Assert.Equal([0, 1, 2], Enumerable.Range(0, 4).Where(i => f[i] > 0));
        Assert.InRange(f[0], 0.5 / 0.95 - 0.015, 0.5 / 0.95 + 0.015);
    }

    [Fact]
    public void Repetition_penalty_divides_positive_and_multiplies_negative_logits_once_per_distinct_token()
    {
        float[] logits = [2f, -1f, 3f, 0.5f];
        var counts = new int[4];
        RepetitionPenalties.Apply(logits, [0, 1, 0, 0], counts, repeat: 2f, frequency: 0f, presence: 0f);
        Assert.Equal([1f, -2f, 3f, 0.5f], logits);
        Assert.All(counts, c => Assert.Equal(0, c));
    }

    [Fact]
    public void Frequency_and_presence_penalties_subtract_count_times_frequency_plus_presence()
    {
        float[] logits = [2f, -1f, 3f, 0.5f];
        RepetitionPenalties.Apply(logits, [0, 1, 0, 0, 9], new int[4], repeat: 1f, frequency: 0.5f, presence: 0.25f);
        Assert.Equal([2f - 1.5f - 0.25f, -1f - 0.5f - 0.25f, 3f, 0.5f], logits);
    }

    [Fact]
    public void Penalties_only_see_the_last_n_tokens_and_change_the_greedy_choice()
    {
        var s = new Sampler(SamplingOptions.Greedy with { RepeatPenalty = 4f, PenaltyLastN = 3 }, 4);
        float[] logits = [4f, 3f, 0f, 0f];
        s.Accept(0);
        Assert.Equal(1, s.Sample(logits)); // 4/4 = 1 < 3
        foreach (int t in new[] { 2, 3, 2, 3, 2, 3, 2 }) s.Accept(t); // token 0 left the 3-token window
        Assert.Equal([2, 3, 2], s.RecentTokens.ToArray());
        Assert.Equal(0, s.Sample(logits));
    }

    [Fact]
    public void Sampling_allocates_nothing_per_token()
    {
        const int vocab = 4096;
        var logits = Enumerable.Range(0, vocab).Select(i => (float)Math.Cos(i * 0.37) * 3).ToArray();
        var chains = new[]
        {
            new SamplingOptions { Seed = 1, RepeatPenalty = 1.1f, FrequencyPenalty = 0.1f, PresencePenalty = 0.1f },
            new SamplingOptions { Seed = 1, TopK = 0, TopP = 0.9f },
            new SamplingOptions { Seed = 1, TopK = 0, TopP = 1, MinP = 0.1f },
            SamplingOptions.Greedy with { RepeatPenalty = 1.3f },
        };
        foreach (var options in chains)
        {
            var s = new Sampler(options, vocab);
            for (int i = 0; i < 200; i++) s.Accept(s.Sample(logits)); // warm up and fill the history
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++) s.Accept(s.Sample(logits));
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void Rejects_logits_of_the_wrong_length()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sampler(SamplingOptions.Greedy, 5).Sample(new float[4]));
        Assert.Contains("expected 5 logits, got 4", e.Message);
    }

    [Theory]
    [InlineData("Temperature")]
    [InlineData("TopK")]
    [InlineData("TopP")]
    [InlineData("MinP")]
    [InlineData("RepeatPenalty")]
    [InlineData("PresencePenalty")]
    [InlineData("FrequencyPenalty")]
    [InlineData("PenaltyLastN")]
    public void Bad_option_values_throw_an_argument_exception_naming_the_option(string name)
    {
        Action make = name switch
        {
            "Temperature" => () => _ = new SamplingOptions { Temperature = -0.1f },
            "TopK" => () => _ = new SamplingOptions { TopK = -1 },
            "TopP" => () => _ = new SamplingOptions { TopP = 1.5f },
            "MinP" => () => _ = new SamplingOptions { MinP = float.NaN },
            "RepeatPenalty" => () => _ = new SamplingOptions { RepeatPenalty = 0 },
            "PresencePenalty" => () => _ = new SamplingOptions { PresencePenalty = float.PositiveInfinity },
            "FrequencyPenalty" => () => _ = new SamplingOptions { FrequencyPenalty = float.NaN },
            _ => () => _ = new SamplingOptions { PenaltyLastN = -2 },
        };
        var e = Assert.Throws<ArgumentException>(make);
        Assert.Equal(name, e.ParamName);
        Assert.StartsWith(name + " must be", e.Message);
    }

    [Fact]
    public void Defaults_are_llama_cpp_defaults()
    {
        var o = new SamplingOptions();
        Assert.Equal((0.8f, 40, 0.95f, 0.05f, 1.0f, 64), (o.Temperature, o.TopK, o.TopP, o.MinP, o.RepeatPenalty, o.PenaltyLastN));
    }
}
