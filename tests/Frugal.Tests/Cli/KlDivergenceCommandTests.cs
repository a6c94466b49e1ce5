using System.Globalization;
using System.Text.Json;
using Frugal.Evaluation;
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
        // FakeModel: logit 8 on the id `next` names, a hash of (position, token, id) in [-1, 1) elsewhere. The tilted
        // model names another id at position 4 of each window only: same top for 10 of the 15 scored tokens, KLD 0 at
        // positions 5 and 6.
        var baseModel = new FakeModel((pos, _) => 'a' + pos, contextLength: 16);
        var tilted = new FakeModel((pos, _) => pos == 4 ? 'z' : 'a' + pos, contextLength: 16);
        var write = _cli.Run(_ => baseModel, _ => new ByteTokenizer(), "perplexity", path, text, "--ctx", "8", "--kl-divergence-base", basePath);
        Assert.True(write.ExitCode == 0, write.Error);
        var o = _cli.Run(_ => tilted, _ => new ByteTokenizer(), "perplexity", path, text, "--kl-divergence", basePath, "--batch", "3", "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        output.WriteLine(o.Out);
        var r = JsonDocument.Parse(o.Out).RootElement;

        // Independently, in double: each window starts with BOS; the row at position pos depends on the token there.
        int[] tokens = [ByteTokenizer.Bos, .. "the quick brown fox jumps over the lazy dog"u8.ToArray().Select(b => (int)b)];
        var kld = new List<double>();
        double nll = 0, nllBase = 0;
        int same = 0;
        for (int window = 0; window < 5; window++)
            for (int pos = 4; pos <= 6; pos++)
            {
                int token = tokens[window * 8 + pos], target = tokens[window * 8 + pos + 1];
                double[] p = LogSoftmax(baseModel, pos, token), q = LogSoftmax(tilted, pos, token);
                kld.Add(Enumerable.Range(0, 259).Sum(i => Math.Exp(p[i]) * (p[i] - q[i])));
                nll -= q[target];
                nllBase -= p[target];
                if (Array.IndexOf(p, p.Max()) == Array.IndexOf(q, q.Max())) same++;
            }
        kld.Sort();
        output.WriteLine($"expected: mean {kld.Average():F6}, median {kld[7]:F6}, max {kld[^1]:F6}, same top {same}/15");
        Assert.True(kld[10] > 1, "the tilt must move position 4's distribution");
        // Relative 1e-6: the base and the current row are float32 log-probabilities (6e-8 relative each).
        void Close(double expected, string key) => Assert.Equal(expected, r.GetProperty(key).GetDouble(), 1e-6 * Math.Max(1, expected));
        Close(kld.Average(), "kld_mean");
        Close(kld[7], "kld_median");
        Close(kld[^1], "kld_max");
        Close(kld[13] + 0.86 * (kld[14] - kld[13]), "kld_p99"); // 0.99 x 14 = 13.86
        Close(kld[12] + 0.6 * (kld[13] - kld[12]), "kld_p90");  // 0.90 x 14 = 12.6
        Assert.Equal(10, same);
        Assert.Equal(100.0 * 10 / 15, r.GetProperty("same_top_p").GetDouble(), 1e-9);
        Assert.Equal(100.0 * Math.Sqrt(2.0 / 3 * (1.0 / 3) / 14), r.GetProperty("same_top_error").GetDouble(), 1e-9);
        double ppl = Math.Exp(nll / 15), pplBase = Math.Exp(nllBase / 15);
        Assert.Equal(ppl, r.GetProperty("ppl").GetDouble(), 1e-6 * ppl);
        Assert.Equal(pplBase, r.GetProperty("ppl_base").GetDouble(), 1e-6 * pplBase);
        Assert.Equal(Math.Exp((nll - nllBase) / 15), r.GetProperty("ppl_ratio").GetDouble(), 1e-6);
    }

    [Fact]
    public void Json_carries_llama_cpp_s_kl_divergence_figures()
    {
        string text = _cli.WriteBytes("x.txt", new byte[40].Select((_, i) => (byte)('a' + i % 7)).ToArray());
        string path = _cli.WriteModel("m.gguf"), basePath = Path.Combine(_cli.Directory, "x.kld");
        CliHarness.Outcome Base(params string[] more) => _cli.Run(_ => new FakeModel((p, _) => 'a' + p, contextLength: 16), _ => new ByteTokenizer(),
            ["perplexity", path, text, "--ctx", "8", "--json", .. more]);
        var plain = Base();
        var saved = Base("--kl-divergence-base", basePath);
        Assert.Equal(0, saved.ExitCode);
        Assert.Equal(plain.Out, saved.Out); // saving the base changes nothing in the perplexity run's output
        var o = _cli.Run(_ => new FakeModel((p, _) => 'b' + p, contextLength: 16), _ => new ByteTokenizer(),
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
            _cli.Run(_ => new FakeModel((p, _) => 'a' + p, vocab, 16), _ => new ByteTokenizer(), ["perplexity", path, .. args]);
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

    /// <summary>log softmax of the row <paramref name="model"/> gives <paramref name="token"/> at <paramref name="position"/>, in double.</summary>
    private static double[] LogSoftmax(FakeModel model, int position, int token)
    {
        var floats = new float[259];
        model.Row(position, token, floats);
        double max = floats.Max(), log = max + Math.Log(floats.Sum(x => Math.Exp(x - max)));
        return floats.Select(x => x - log).ToArray();
    }
}
