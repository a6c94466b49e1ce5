using System.Globalization;
using System.Text.Json;
using Frugal.Evaluation;
using Frugal.Models;
using Frugal.Tests.Inference;
using Frugal.Tests.Training;
using Xunit.Abstractions;

namespace Frugal.Tests.Cli;

/// <summary>
/// <c>frugal perplexity --kl-divergence-base / --kl-divergence</c>: a model against its own base gives 0, a perturbed
/// one the divergence computed here independently, and a base from other windows is refused.
/// </summary>
public sealed class KlDivergenceCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Shipped_main_model_against_its_own_base_has_zero_divergence_and_the_same_top_token_everywhere()
    {
        string model = Path.Combine(ShippedModels.Directory, "frugal-main.gguf");
        string text = _cli.WriteBytes("stories.txt", System.Text.Encoding.UTF8.GetBytes(string.Join("\n", HeldOutSets.Stories(30))));
        string basePath = Path.Combine(_cli.Directory, "main.kld");

        var saved = _cli.Run("perplexity", model, text, "--ctx", "128", "--json", "--kl-divergence-base", basePath);
        Assert.True(saved.ExitCode == 0, saved.Error);
        output.WriteLine(saved.Error);
        Assert.Contains($"to '{basePath}'", saved.Error);
        var ppl = JsonDocument.Parse(saved.Out).RootElement;

        // --ctx is taken from the base file when not given.
        var o = _cli.Run("perplexity", model, text, "--kl-divergence", basePath, "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        output.WriteLine(o.Out);
        var r = JsonDocument.Parse(o.Out).RootElement;
        Assert.Equal(128, r.GetProperty("ctx").GetInt32());
        Assert.Equal(ppl.GetProperty("scored_tokens").GetInt32(), r.GetProperty("scored_tokens").GetInt32());
        Assert.True(r.GetProperty("kld_mean").GetDouble() is >= 0 and < 1e-6, o.Out);
        Assert.True(r.GetProperty("kld_max").GetDouble() < 1e-6, o.Out);
        Assert.Equal(100.0, r.GetProperty("same_top_p").GetDouble());
        Assert.Equal(0.0, r.GetProperty("same_top_error").GetDouble());
        // PPL(Q) is the plain run's figure; PPL(base) that figure from float32 log-probabilities.
        Assert.Equal(ppl.GetProperty("perplexity").GetDouble(), r.GetProperty("ppl").GetDouble());
        Assert.Equal(ppl.GetProperty("perplexity").GetDouble(), r.GetProperty("ppl_base").GetDouble(), 1e-6);
        Assert.Equal(1.0, r.GetProperty("ppl_ratio").GetDouble(), 1e-6);

        // llama.cpp's spelling gives the same figures, in text.
        var text2 = _cli.Run("perplexity", model, text, "--kl-divergence", "--kl-divergence-base", basePath);
        Assert.True(text2.ExitCode == 0, text2.Error);
        output.WriteLine(text2.Out);
        Assert.Contains("Mean    KLD:   0.000000 ±   0.000000", text2.Out);
        Assert.Contains("Same top p: 100.000 ± 0.000 %", text2.Out);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Mean PPL(Q)                   : {r.GetProperty("ppl").GetDouble(),10:F6}"), text2.Out);
    }

    [Fact]
    public void A_perturbed_model_gives_the_divergence_computed_independently()
    {
        // 43 bytes + BOS = 44 tokens: 5 windows of 8, positions 4..6 of each scored.
        string text = _cli.WriteBytes("fox.txt", "the quick brown fox jumps over the lazy dog"u8.ToArray());
        string path = _cli.WriteModel("m.gguf"), basePath = Path.Combine(_cli.Directory, "fox.kld");
        // The base's top token is 40 + pos (logit 5, the rest at most 2); the tilt keeps it except at position 4 of
        // each window, where id 7 gets +8: same top for 10 of the 15 scored tokens.
        static double Base(int pos, int id) => id == 40 + pos ? 5 : 2 * Math.Sin(0.37 * id + 0.11 * pos);
        static double Tilted(int pos, int id) => Base(pos, id) + 0.5 * Math.Cos(1.3 * id + pos) + (pos == 4 && id == 7 ? 8 : 0);
        var write = _cli.Run(_ => new FormulaModel(Base, 16), _ => new ByteTokenizer(), "perplexity", path, text, "--ctx", "8", "--kl-divergence-base", basePath);
        Assert.True(write.ExitCode == 0, write.Error);
        var o = _cli.Run(_ => new FormulaModel(Tilted, 16), _ => new ByteTokenizer(), "perplexity", path, text, "--kl-divergence", basePath, "--batch", "3", "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        output.WriteLine(o.Out);
        var r = JsonDocument.Parse(o.Out).RootElement;

        int[] tokens = [ByteTokenizer.Bos, .. "the quick brown fox jumps over the lazy dog"u8.ToArray().Select(b => (int)b)];
        var kld = new List<double>();
        double nll = 0, nllBase = 0;
        int same = 0;
        for (int window = 0; window < 5; window++)
            for (int pos = 4; pos <= 6; pos++)
            {
                double[] p = LogSoftmax(id => Base(pos, id)), q = LogSoftmax(id => Tilted(pos, id));
                kld.Add(Enumerable.Range(0, 259).Sum(i => Math.Exp(p[i]) * (p[i] - q[i])));
                int target = tokens[window * 8 + pos + 1];
                nll -= q[target];
                nllBase -= p[target];
                if (Array.IndexOf(p, p.Max()) == Array.IndexOf(q, q.Max())) same++;
            }
        kld.Sort();
        output.WriteLine($"expected: mean {kld.Average():F6}, median {kld[7]:F6}, max {kld[^1]:F6}, same top {same}/15");
        Assert.True(kld[0] > 0.01, "the perturbation must move every distribution");
        Assert.Equal(kld.Average(), r.GetProperty("kld_mean").GetDouble(), 1e-6);
        Assert.Equal(kld[7], r.GetProperty("kld_median").GetDouble(), 1e-6);
        Assert.Equal(kld[^1], r.GetProperty("kld_max").GetDouble(), 1e-6);
        Assert.Equal(kld[13] + 0.86 * (kld[14] - kld[13]), r.GetProperty("kld_p99").GetDouble(), 1e-6); // 0.99 x 14 = 13.86
        Assert.Equal(10, same);
        Assert.Equal(100.0 * 10 / 15, r.GetProperty("same_top_p").GetDouble(), 1e-9);
        Assert.Equal(100.0 * Math.Sqrt(2.0 / 3 * (1.0 / 3) / 14), r.GetProperty("same_top_error").GetDouble(), 1e-9);
        double ppl = Math.Exp(nll / 15), pplBase = Math.Exp(nllBase / 15);
        Assert.Equal(ppl, r.GetProperty("ppl").GetDouble(), 1e-6 * ppl); // logits are floats here, doubles in the expectation
        Assert.Equal(pplBase, r.GetProperty("ppl_base").GetDouble(), 1e-6 * pplBase);
        Assert.Equal(Math.Exp((nll - nllBase) / 15), r.GetProperty("ppl_ratio").GetDouble(), 1e-6);
    }

    [Fact]
    public void Json_carries_llama_cpp_s_kl_divergence_figures()
    {
        string text = _cli.WriteBytes("x.txt", new byte[40].Select((_, i) => (byte)('a' + i % 7)).ToArray());
        string path = _cli.WriteModel("m.gguf"), basePath = Path.Combine(_cli.Directory, "x.kld");
        CliHarness.Outcome Base(params string[] more) => _cli.Run(_ => new FormulaModel((p, i) => Math.Sin(i + p), 16), _ => new ByteTokenizer(),
            ["perplexity", path, text, "--ctx", "8", "--json", .. more]);
        var plain = Base();
        var saved = Base("--kl-divergence-base", basePath);
        Assert.Equal(0, saved.ExitCode);
        Assert.Equal(plain.Out, saved.Out); // saving the base changes nothing in the perplexity run's output
        var o = _cli.Run(_ => new FormulaModel((p, i) => Math.Sin(i + p) + 0.1 * Math.Cos(3 * i), 16), _ => new ByteTokenizer(),
            "perplexity", path, text, "--kl-divergence", basePath, "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        var keys = JsonDocument.Parse(o.Out).RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(
        [
            "ppl", "ppl_error", "ppl_base", "ppl_base_error", "ppl_ratio", "ppl_ratio_error", "ln_ppl_ratio", "ln_ppl_ratio_error",
            "ln_ppl_correlation", "kld_mean", "kld_error", "kld_max", "kld_p999", "kld_p99", "kld_p95", "kld_p90", "kld_median",
            "kld_p10", "kld_p5", "kld_p1", "kld_min", "same_top_p", "same_top_error", "dp_rms", "dp_rms_error",
            "tokens", "chunks", "ctx", "scored_tokens",
        ], keys);
    }

    [Fact]
    public void A_base_that_does_not_match_is_a_one_line_error()
    {
        string text = _cli.WriteBytes("a.txt", new byte[40].Select((_, i) => (byte)('a' + i % 5)).ToArray());
        string other = _cli.WriteBytes("b.txt", new byte[40].Select((_, i) => (byte)('a' + i % 6)).ToArray());
        string path = _cli.WriteModel("m.gguf"), basePath = Path.Combine(_cli.Directory, "a.kld");
        CliHarness.Outcome Run(int vocab, params string[] args) =>
            _cli.Run(_ => new FormulaModel((p, i) => Math.Sin(i * p), 16, vocab), _ => new ByteTokenizer(), ["perplexity", path, .. args]);
        Assert.Equal(0, Run(259, text, "--ctx", "8", "--kl-divergence-base", basePath).ExitCode);

        AssertError(Run(259, other, "--kl-divergence", basePath), "was saved from a different text: token #6 is id 97 there and 102 here");
        AssertError(Run(259, text, "--kl-divergence", basePath, "--ctx", "9"), "was saved with windows of 8 tokens; this run uses 9 (pass --ctx 8)");
        AssertError(Run(300, text, "--kl-divergence", basePath), "was saved from a model with a vocabulary of 259 tokens; this model has 300");
        AssertError(Run(259, text, "--kl-divergence", text), "is not a base log-probability file");
        AssertError(Run(259, text, "--kl-divergence", Path.Combine(_cli.Directory, "absent.kld")), "base file not found");
        AssertError(Run(259, text, "--kl-divergence"), "--kl-divergence: name the base file");
        AssertError(Run(259, text, "--kl-divergence", basePath, "--kl-divergence-base", text), "give the base file once");
        AssertError(Run(259, text, "--kl-divergence-base", text), $"--kl-divergence-base: '{text}' is an input of this run");
        Assert.Equal("abcdeabcde", File.ReadAllText(text)[..10]);
    }

    private static void AssertError(CliHarness.Outcome o, string expected)
    {
        Assert.Equal(1, o.ExitCode);
        Assert.StartsWith("error: ", o.Error);
        Assert.Contains(expected, o.Error);
        Assert.Single(o.Error.Trim().Split('\n'));
    }

    private static double[] LogSoftmax(Func<int, double> logit)
    {
        var row = Enumerable.Range(0, 259).Select(logit).ToArray();
        double max = row.Max(), log = max + Math.Log(row.Sum(x => Math.Exp(x - max)));
        return row.Select(x => x - log).ToArray();
    }

    /// <summary>Logit of id i at position p in the window: <paramref name="logit"/>(p, i), whatever the tokens.</summary>
    private sealed class FormulaModel(Func<int, int, double> logit, int contextLength, int vocabSize = 259) : ILanguageModel
    {
        public ModelConfig Config { get; } = new()
        {
            Architecture = "fake", VocabSize = vocabSize, ContextLength = contextLength, EmbeddingLength = 8, BlockCount = 1,
            HeadCount = 1, HeadCountKv = 1, HeadDim = 8, FeedForwardLength = 8, RmsNormEpsilon = 1e-5f, RopeFreqBase = 10000,
        };

        public KvCache CreateCache(int maxTokens) => new FakeCache(maxTokens);

        public void Forward(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, bool allLogits = false)
        {
            var c = (FakeCache)cache;
            if (c.Count + tokens.Length > c.Capacity) throw new InvalidOperationException("cache overflow");
            int v = Config.VocabSize;
            for (int i = 0; i < tokens.Length; i++)
            {
                int pos = c.Count;
                c.Tokens.Add(tokens[i]);
                if (!allLogits && i < tokens.Length - 1) continue;
                var row = allLogits ? logits.Slice(i * v, v) : logits[..v];
                for (int id = 0; id < v; id++) row[id] = (float)logit(pos, id);
            }
        }

        public void Dispose() { }
    }
}
