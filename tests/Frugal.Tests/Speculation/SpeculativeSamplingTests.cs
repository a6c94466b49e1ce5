using Frugal.Inference.Generation;
using Frugal.Inference.Sampling;
using Xunit.Abstractions;

namespace Frugal.Tests.Speculation;

/// <summary>
/// Sampling with speculation must follow the target model's distribution exactly. Three tokens are sampled after a
/// fixed prompt (top-k 2, temperature 1.5: 8 possible outputs, each with a probability computed exactly from the
/// built-in main model's logits), 6,000 times through the verification rule (<see cref="TokenOutput.NextDrafted"/>),
/// with drafts drawn from the built-in draft model's distribution or fixed one-hot drafts (prompt lookup's kind).
/// Pearson's chi-square statistic of the counts must stay under the p = 0.001 critical value, while the same draws
/// with every draft accepted (a broken rule) must exceed it: the test tells a correct rule from a wrong one.
/// </summary>
[Collection(BuiltInPair.Collection)]
public class SpeculativeSamplingTests(ITestOutputHelper output)
{
    private const int Draws = 6000;
    private const int Length = 3;
    private static readonly SamplingOptions Sampling = new() { Temperature = 1.5f, TopK = 2, TopP = 1, MinP = 0, RepeatPenalty = 1 };

    // Chi-square critical values at p = 0.001 for 1..7 degrees of freedom.
    private static readonly double[] Critical001 = [10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32];

    private readonly Dictionary<string, float[]> _main = [], _draft = [];
    private int[] _prompt = [];

    [Theory]
    [InlineData(true, "Once upon a time there was a")]
    [InlineData(false, "Lily saw a big dog. Lily saw a big dog. Lily saw a")]
    public void Sampled_speculative_output_follows_the_target_distribution(bool fromDraftModel, string prompt)
    {
        _prompt = new TextGenerator(BuiltInPair.Main, BuiltInPair.Tokenizer).Tokenize(prompt, new GenerationOptions());
        int vocab = BuiltInPair.Main.Config.VocabSize;
        var expected = Exact();
        var counts = new Dictionary<(int, int, int), int>();
        var brokenCounts = new Dictionary<(int, int, int), int>();
        var steps = new List<TokenStep>();
        long drafted = 0, accepted = 0;
        for (int i = 0; i < Draws; i++)
        {
            var sampling = Sampling with { Seed = (ulong)i + 1 };
            var output = new TokenOutput(BuiltInPair.Tokenizer, sampling, vocab, 512, _prompt, [], ignoreEos: true);
            var drafter = new Sampler(sampling with { Seed = (ulong)i + 1_000_000 }, vocab);
            var produced = new List<int>();
            while (produced.Count < Length)
            {
                int k = Length - 1 - produced.Count;
                if (k == 0)
                {
                    produced.Add(output.Next(Row(_main, BuiltInPair.Main, produced)).Token);
                    continue;
                }
                var (draft, q) = Draft(drafter, produced, k, fromDraftModel);
                if (produced.Count == 0)
                {
                    // The broken rule on the same drafts: every draft of the first step accepted, then the bonus token.
                    var brokenOutput = new TokenOutput(BuiltInPair.Tokenizer, sampling with { Seed = (ulong)i + 7 }, vocab, 512, _prompt, [], ignoreEos: true);
                    var broken = draft.ToList();
                    while (broken.Count < Length) broken.Add(brokenOutput.Next(Row(_main, BuiltInPair.Main, broken)).Token);
                    var bk = (broken[0], broken[1], broken[2]);
                    brokenCounts[bk] = brokenCounts.GetValueOrDefault(bk) + 1;
                }
                var rows = new float[(k + 1) * vocab];
                for (int j = 0; j <= k; j++) Row(_main, BuiltInPair.Main, [.. produced, .. draft[..j]]).CopyTo(rows, j * vocab);
                int ok = output.NextDrafted(rows, draft, q, Length - produced.Count, steps);
                drafted += k;
                accepted += ok;
                produced.AddRange(steps.Select(s => s.Token));
            }
            var key = (produced[0], produced[1], produced[2]);
            Assert.True(expected.ContainsKey(key), $"draw {i} gave {key}, outside the target's support");
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.True(accepted > 0 && accepted < drafted, $"{accepted} of {drafted} drafted tokens accepted: the test must see both outcomes");

        var (chi2, dof) = ChiSquare(expected, counts);
        var (brokenChi2, brokenDof) = ChiSquare(expected, brokenCounts);
        output.WriteLine($"chi2 = {chi2:F2} ({dof} dof); always-accept: {brokenChi2:F2} ({brokenDof} dof); {accepted}/{drafted} accepted");
        Assert.True(chi2 < Critical001[dof - 1], $"chi-square {chi2:F2} with {dof} degrees of freedom: the output does not follow the target distribution");
        Assert.True(brokenChi2 > Critical001[brokenDof - 1], $"always accepting gave chi-square {brokenChi2:F2}: the test cannot see a broken rule");
    }

    /// <summary>k drafted tokens: drawn from the draft model's distribution (returned as q rows), or the main model's second choice at each step (one-hot, no q).</summary>
    private (int[] Draft, float[] Q) Draft(Sampler drafter, List<int> produced, int k, bool fromDraftModel)
    {
        int vocab = BuiltInPair.Main.Config.VocabSize;
        var draft = new int[k];
        var q = fromDraftModel ? new float[k * vocab] : [];
        var p = new float[vocab];
        for (int j = 0; j < k; j++)
        {
            List<int> ctx = [.. produced, .. draft[..j]];
            if (fromDraftModel)
            {
                var row = q.AsSpan(j * vocab, vocab);
                drafter.Distribution(Row(_draft, BuiltInPair.Draft, ctx), row);
                draft[j] = drafter.SampleFrom(row);
            }
            else
            {
                drafter.Distribution(Row(_main, BuiltInPair.Main, ctx), p);
                int best = Array.IndexOf(p, p.Max());
                p[best] = 0;
                draft[j] = Array.IndexOf(p, p.Max()); // the less likely of the two: rejections happen
            }
        }
        return (draft, q);
    }

    /// <summary>A model's logits after the prompt and <paramref name="ctx"/>, computed once.</summary>
    private float[] Row(Dictionary<string, float[]> memo, Frugal.Models.ILanguageModel model, IReadOnlyList<int> ctx)
    {
        string key = string.Join(",", ctx);
        if (memo.TryGetValue(key, out var row)) return row;
        var cache = model.CreateCache(_prompt.Length + Length + 1);
        row = new float[model.Config.VocabSize];
        model.Forward([.. _prompt, .. ctx], cache, row);
        return memo[key] = row;
    }

    /// <summary>Probabilities of every three-token output under the sampler's transforms of the main model's logits.</summary>
    private Dictionary<(int, int, int), double> Exact()
    {
        var sampler = new Sampler(Sampling, BuiltInPair.Main.Config.VocabSize);
        var result = new Dictionary<(int, int, int), double>();
        foreach (var (t1, p1) in Support(sampler, []))
            foreach (var (t2, p2) in Support(sampler, [t1]))
                foreach (var (t3, p3) in Support(sampler, [t1, t2]))
                    result[(t1, t2, t3)] = p1 * p2 * p3;
        return result;
    }

    private List<(int Token, double P)> Support(Sampler sampler, List<int> ctx)
    {
        var p = new float[BuiltInPair.Main.Config.VocabSize];
        sampler.Distribution(Row(_main, BuiltInPair.Main, ctx), p);
        return [.. p.Select((v, t) => (t, (double)v)).Where(x => x.Item2 > 0)];
    }

    /// <summary>Pearson's statistic, cells with fewer than 5 expected draws pooled into one.</summary>
    private static (double Chi2, int Dof) ChiSquare(Dictionary<(int, int, int), double> expected, Dictionary<(int, int, int), int> counts)
    {
        int n = counts.Values.Sum();
        double chi2 = 0, pooledE = 0, pooledO = 0;
        int cells = 0;
        foreach (var (key, p) in expected)
        {
            double e = p * n, o = counts.GetValueOrDefault(key);
            if (e < 5) { pooledE += e; pooledO += o; continue; }
            chi2 += (o - e) * (o - e) / e;
            cells++;
        }
        int outside = n - counts.Where(c => expected.ContainsKey(c.Key)).Sum(c => c.Value);
        pooledO += outside;
        if (pooledE > 0 || pooledO > 0) { chi2 += (pooledO - pooledE) * (pooledO - pooledE) / Math.Max(pooledE, 0.5); cells++; }
        return (chi2, cells - 1);
    }
}
