using System.Globalization;
using System.Text.Json;
using Frugal.Evaluation;
using Frugal.Models;
using Frugal.Tests.Inference;
using Frugal.Tests.Oracle;
using Frugal.Tests.Training;
using Xunit.Abstractions;

namespace Frugal.Tests.Cli;

/// <summary><c>frugal perplexity</c>: llama.cpp's windowed definition, checked on hand-computable fakes and against llama.cpp's logits.</summary>
public sealed class PerplexityCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData(128)]
    [InlineData(512)] // the model's whole context
    public void Shipped_main_model_perplexity_matches_one_computed_from_llama_cpp_logits(int window)
    {
        string model = Path.Combine(ShippedModels.Directory, "frugal-main.gguf");
        string text = string.Join("\n", HeldOutSets.Stories(60));
        string file = _cli.WriteBytes("stories.txt", System.Text.Encoding.UTF8.GetBytes(text));

        var o = _cli.Run("perplexity", model, file, "--ctx", window.ToString(CultureInfo.InvariantCulture), "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        using var json = JsonDocument.Parse(o.Out);
        var r = json.RootElement;

        var (expected, expectedError, tokens) = LlamaCppPerplexity(model, text, window);
        Assert.Equal(tokens, r.GetProperty("tokens").GetInt32());
        Assert.Equal(tokens / window, r.GetProperty("chunks").GetInt32());
        Assert.Equal(window, r.GetProperty("ctx").GetInt32());
        double ppl = r.GetProperty("perplexity").GetDouble(), error = r.GetProperty("error").GetDouble();
        double relative = Math.Abs(ppl - expected) / expected;
        output.WriteLine($"frugal {ppl:F5} +/- {error:F5}, llama.cpp logits {expected:F5} +/- {expectedError:F5}, relative difference {relative:E2}, " +
                         $"{tokens} tokens, {tokens / window} windows of {window}");
        Assert.True(relative < 0.005, $"frugal {ppl} vs llama.cpp {expected}");
        Assert.True(Math.Abs(error - expectedError) / expectedError < 0.05, $"error {error} vs llama.cpp's {expectedError}");
    }

    /// <summary>
    /// Perplexity written out from llama.cpp's perplexity.cpp over llama.cpp's own tokens and logits: windows of
    /// n_ctx with BOS over the first token, positions n_ctx/2 .. n_ctx-2 scored, error = sqrt(var/(N-1)) * ppl.
    /// </summary>
    private static (double Ppl, double Error, int Tokens) LlamaCppPerplexity(string model, string text, int window)
    {
        int[] tokens;
        int? bos;
        using (var vocab = new LlamaCppVocab(model))
        {
            tokens = vocab.Tokenize(text, addSpecial: true, parseSpecial: false);
            bos = vocab.AddBos ? vocab.Bos : null;
        }
        using var llama = LlamaCppModel.Load(model, (uint)window);
        int n = llama.VocabSize;
        double nll = 0, nll2 = 0;
        int count = 0;
        for (int start = 0; start + window <= tokens.Length; start += window)
        {
            int[] chunk = tokens[start..(start + window)];
            if (bos is { } b) chunk[0] = b;
            float[] logits = llama.Logits(chunk);
            for (int p = window / 2; p < window - 1; p++)
            {
                var row = logits.AsSpan(p * n, n);
                double max = double.NegativeInfinity, sum = 0;
                foreach (float x in row) max = Math.Max(max, x);
                foreach (float x in row) sum += Math.Exp(x - max);
                double v = -(row[tokens[start + p + 1]] - max - Math.Log(sum));
                nll += v;
                nll2 += v * v;
                count++;
            }
        }
        double mean = nll / count, ppl = Math.Exp(mean);
        return (ppl, Math.Sqrt((nll2 / count - mean * mean) / (count - 1)) * ppl, tokens.Length);
    }

    [Fact]
    public void Uniform_logits_give_the_vocabulary_size_over_whole_windows_only()
    {
        // 300 bytes + BOS = 301 tokens: 4 windows of 64 (the last 45 tokens are dropped), 31 scored per window.
        string file = _cli.WriteBytes("a.txt", System.Text.Encoding.ASCII.GetBytes(new string('x', 300)));
        string path = _cli.WriteModel("m.gguf");
        var model = new PositionLogitModel(slope: 0, contextLength: 64);
        var o = _cli.Run(_ => model, _ => new ByteTokenizer(), "perplexity", path, file, "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        var r = JsonDocument.Parse(o.Out).RootElement;
        Assert.Equal(301, r.GetProperty("tokens").GetInt32());
        Assert.Equal(4, r.GetProperty("chunks").GetInt32());
        Assert.Equal(64, r.GetProperty("ctx").GetInt32());
        Assert.Equal(4 * 31, r.GetProperty("scored_tokens").GetInt32());
        Assert.Equal(259, r.GetProperty("perplexity").GetDouble(), 259 * 1e-6); // float exp in the softmax
        Assert.Equal(0, r.GetProperty("error").GetDouble(), 1e-5); // the variance is 0 up to rounding

        var text = _cli.Run(_ => new PositionLogitModel(0, 64), _ => new ByteTokenizer(), "perplexity", path, file);
        Assert.Equal(0, text.ExitCode);
        Assert.Equal("[1]259.0000,[2]259.0000,[3]259.0000,[4]259.0000,\nFinal estimate: PPL = 259.0000 +/- 0.00000\n", text.Out.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(8, 3)] // batches of 3: the scored half starts inside a batch
    [InlineData(9, 4)] // odd window: first = 4
    public void Only_the_second_half_of_each_window_is_scored_and_each_window_starts_with_BOS(int window, int batch)
    {
        // Logit (slope * position) on 'x' and 0 elsewhere: P(x at p) = e^p / (e^p + 258), position counted from the
        // window's start, so the figure shows which positions were scored.
        string file = _cli.WriteBytes("x.txt", System.Text.Encoding.ASCII.GetBytes(new string('x', 40)));
        var model = new PositionLogitModel(slope: 1, contextLength: 16);
        var o = _cli.Run(_ => model, _ => new ByteTokenizer(), "perplexity", _cli.WriteModel("m.gguf"), file,
            "--ctx", window.ToString(CultureInfo.InvariantCulture), "--batch", batch.ToString(CultureInfo.InvariantCulture), "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        var r = JsonDocument.Parse(o.Out).RootElement;

        double nll = 0, nll2 = 0;
        int chunks = 41 / window, count = 0;
        for (int c = 0; c < chunks; c++)
            for (int p = window / 2; p <= window - 2; p++)
            {
                double v = Math.Log(1 + 258 * Math.Exp(-p)); // -log P(x at p)
                nll += v;
                nll2 += v * v;
                count++;
            }
        double mean = nll / count, ppl = Math.Exp(mean);
        Assert.Equal(chunks, r.GetProperty("chunks").GetInt32());
        double error = Math.Sqrt((nll2 / count - mean * mean) / (count - 1)) * ppl;
        Assert.Equal(ppl, r.GetProperty("perplexity").GetDouble(), 1e-6 * ppl); // float exp in the softmax
        Assert.Equal(error, r.GetProperty("error").GetDouble(), 1e-5 * error);
        Assert.Equal(Enumerable.Repeat(ByteTokenizer.Bos, chunks), model.FirstTokens);
    }

    [Fact]
    public void Missing_empty_and_too_short_texts_are_one_line_errors()
    {
        string path = _cli.WriteModel("m.gguf");
        CliHarness.Outcome Run(string file, params string[] more) =>
            _cli.Run(_ => new PositionLogitModel(0, 64), _ => new ByteTokenizer(), ["perplexity", path, file, .. more]);

        AssertError(Run(Path.Combine(_cli.Directory, "absent.txt")), "error: text file not found");
        AssertError(Run(_cli.WriteBytes("empty.txt", [])), "is empty");
        // 100 bytes + BOS = 101 tokens < 2 x 64.
        AssertError(Run(_cli.WriteBytes("short.txt", new byte[100].Select(_ => (byte)'y').ToArray())), "tokenizes to only 101 tokens; a window of 64 needs at least 128");
        string ok = _cli.WriteBytes("ok.txt", new byte[200].Select(_ => (byte)'y').ToArray());
        AssertError(Run(ok, "--ctx", "65"), "--ctx: 65 tokens exceed the model's context length 64");
        AssertError(Run(ok, "--ctx", "3"), "--ctx: expected at least 4 tokens, got 3");
        AssertError(Run(ok, "--batch", "0"), "--batch: expected at least 1 token, got 0");
    }

    private static void AssertError(CliHarness.Outcome o, string expected)
    {
        Assert.Equal(1, o.ExitCode);
        Assert.StartsWith("error: ", o.Error);
        Assert.Contains(expected, o.Error);
        Assert.Single(o.Error.Trim().Split('\n'));
    }

    /// <summary>
    /// Logits (slope · position in the window) for byte 'x' and 0 for every other id; records the token each window
    /// (cache) starts with.
    /// </summary>
    private sealed class PositionLogitModel(double slope, int contextLength) : ILanguageModel
    {
        public ModelConfig Config { get; } = new()
        {
            Architecture = "fake", VocabSize = 259, ContextLength = contextLength, EmbeddingLength = 8, BlockCount = 1,
            HeadCount = 1, HeadCountKv = 1, HeadDim = 8, FeedForwardLength = 8, RmsNormEpsilon = 1e-5f, RopeFreqBase = 10000,
        };

        public List<int> FirstTokens { get; } = [];

        public KvCache CreateCache(int maxTokens, Frugal.Numerics.Attention.KvCacheTypes types = default) => new FakeCache(maxTokens);

        public void Forward(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, bool allLogits = false)
        {
            var c = (FakeCache)cache;
            if (c.Count + tokens.Length > c.Capacity) throw new InvalidOperationException("cache overflow");
            int v = Config.VocabSize;
            for (int i = 0; i < tokens.Length; i++)
            {
                int pos = c.Count;
                if (pos == 0) FirstTokens.Add(tokens[i]);
                c.Tokens.Add(tokens[i]);
                if (!allLogits && i < tokens.Length - 1) continue;
                var row = allLogits ? logits.Slice(i * v, v) : logits[..v];
                row.Clear();
                row['x'] = (float)(slope * pos);
            }
        }

        public void Dispose() { }
    }
}
