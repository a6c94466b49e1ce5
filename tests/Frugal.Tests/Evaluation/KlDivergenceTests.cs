using Frugal.Evaluation;
using Frugal.Tests.Inference;

namespace Frugal.Tests.Evaluation;

/// <summary>KL(base || Q), its statistics and the base file, on distributions written out by hand.</summary>
public sealed class KlDivergenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("frugal-kld-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Kl_divergence_of_two_written_out_distributions_matches_the_hand_computed_value()
    {
        // P = (0.7, 0.2, 0.1), Q = (0.5, 0.3, 0.2):
        // KL(P||Q) = 0.7 ln(0.7/0.5) + 0.2 ln(0.2/0.3) + 0.1 ln(0.1/0.2) = 0.235531 - 0.081093 - 0.069315 = 0.085123
        // KL(Q||P) = 0.5 ln(0.5/0.7) + 0.3 ln(0.3/0.2) + 0.2 ln(0.2/0.1) = -0.168236 + 0.121640 + 0.138629 = 0.092033
        float[] p = [MathF.Log(0.7f), MathF.Log(0.2f), MathF.Log(0.1f)], q = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        var scratch = new float[3];
        Assert.Equal(0.0851228, KlDivergence.Between(p, q, scratch), 1e-7);
        Assert.Equal(0.0920329, KlDivergence.Between(q, p, scratch), 1e-7);
        Assert.Equal(0.0, KlDivergence.Between(p, p, scratch));
    }

    [Fact]
    public void A_zero_base_probability_adds_nothing_instead_of_NaN()
    {
        // P = (1, 0), Q = (0.5, 0.5): KL = 1 ln 2; the 0 ln(0/0.5) term is its limit, 0.
        float[] p = [0, float.NegativeInfinity], q = [MathF.Log(0.5f), MathF.Log(0.5f)];
        Assert.Equal(Math.Log(2), KlDivergence.Between(p, q, new float[2]), 1e-7);
    }

    [Fact]
    public void Statistics_of_two_positions_match_their_hand_computed_values()
    {
        // Position 1: base (0.7, 0.2, 0.1), Q logits ln(0.5, 0.3, 0.2) + 3 (a shift the softmax removes), target 1.
        // Position 2: base (0.25, 0.25, 0.5), Q = base, target 2.
        var s = new KlDivergenceStatistics(3);
        s.Add([MathF.Log(0.7f), MathF.Log(0.2f), MathF.Log(0.1f)], [MathF.Log(0.5f) + 3, MathF.Log(0.3f) + 3, MathF.Log(0.2f) + 3], 1);
        float[] second = [MathF.Log(0.25f), MathF.Log(0.25f), MathF.Log(0.5f)];
        s.Add(second, second, 2);

        Assert.Equal(2, s.Count);
        Assert.Equal(0.0851228 / 2, s.Kld.Value, 1e-7);
        // KLDs 0.0851228 and 0: sqrt(var / (n - 1)) with var = (0.0851228 / 2)^2.
        Assert.Equal(0.0851228 / 2, s.Kld.Error, 1e-7);
        // Both positions keep their most likely token (position 1: id 0 in both, 0.7 and 0.5).
        Assert.Equal(1.0, s.SameTop.Value);
        // NLL(Q) = -ln 0.3, -ln 0.5; NLL(base) = -ln 0.2, -ln 0.5.
        Assert.Equal(Math.Exp(-(Math.Log(0.3) + Math.Log(0.5)) / 2), s.Perplexity.Value, 1e-6);
        Assert.Equal(Math.Exp(-(Math.Log(0.2) + Math.Log(0.5)) / 2), s.BasePerplexity.Value, 1e-6);
        Assert.Equal((Math.Log(0.2) - Math.Log(0.3)) / 2, s.LogPerplexityRatio.Value, 1e-6);
        Assert.Equal(Math.Sqrt(0.1 * 0.1 / 2), s.DeltaPRms.Value, 1e-6); // Δp = 0.3 - 0.2, 0
    }

    [Fact]
    public void Same_top_counts_positions_whose_most_likely_token_moved()
    {
        var s = new KlDivergenceStatistics(2);
        s.Add([MathF.Log(0.6f), MathF.Log(0.4f)], [0.1f, 0.9f], 0);   // top moved from 0 to 1
        s.Add([MathF.Log(0.6f), MathF.Log(0.4f)], [0.9f, 0.1f], 0);   // same top
        s.Add([MathF.Log(0.3f), MathF.Log(0.7f)], [0.0f, 2.0f], 1);   // same top
        s.Add([MathF.Log(0.3f), MathF.Log(0.7f)], [2.0f, 0.0f], 1);   // moved
        Assert.Equal(0.5, s.SameTop.Value);
        Assert.Equal(Math.Sqrt(0.25 / 3), s.SameTop.Error, 1e-12);
    }

    [Fact]
    public void Percentiles_interpolate_between_neighbours_as_llama_cpp_does()
    {
        var r = Result([0, 1, 2, 3]);
        Assert.Equal(1.5, r.KldMedian);         // mean of the middle two
        Assert.Equal(2.7, r.KldPercentile(0.9), 1e-12);
        Assert.Equal(2.97, r.KldPercentile(0.99), 1e-12);
        Assert.Equal(3.0, r.KldMaximum);
        Assert.Equal(0.0, r.KldMinimum);
        Assert.Equal(2.0, Result(new[] { 5.0, 2, 1 }.Order().ToArray()).KldMedian);
    }

    private static KlDivergenceResult Result(double[] sorted) =>
        new(default, default, 0, default, default, default, default, sorted, default, default, 0, 0, 0);

    [Fact]
    public void Base_file_round_trips_the_log_softmax_of_each_scored_row()
    {
        var model = new FakeModel((_, _) => 'q', contextLength: 16);
        var windows = new PerplexityWindows(Text(40), contextLength: 8, batchSize: 3, bos: ByteTokenizer.Bos);
        string path = Path.Combine(_dir, "base.kld");
        var rows = new List<float[]>();
        using (var writer = BaseLogitsFile.Create(path, windows, 259))
        {
            windows.Evaluate(model, (logits, _) =>
            {
                rows.Add(logits.ToArray());
                writer.Write(logits);
            });
            writer.Complete();
        }
        Assert.False(File.Exists(path + ".partial"));
        Assert.Equal(5 * 3, rows.Count); // 41 tokens: 5 windows of 8, positions 4..6 scored
        Assert.Equal(36 + 4 * 41 + 4L * 259 * 15, new FileInfo(path).Length);

        using var reader = BaseLogitsFile.Open(path);
        Assert.Equal((259, 8, ByteTokenizer.Bos, 5, 3), (reader.VocabSize, reader.ContextLength, reader.Bos!.Value, reader.Windows, reader.ScoredPerWindow));
        Assert.Equal(windows.Tokens, reader.Tokens);
        reader.EnsureMatches(windows, 259);
        var row = new float[259];
        foreach (var logits in rows)
        {
            reader.ReadRow(row);
            double max = logits.Max(), sum = logits.Sum(x => Math.Exp(x - max));
            for (int i = 0; i < row.Length; i++) Assert.Equal(logits[i] - max - Math.Log(sum), row[i], 1e-6);
        }
    }

    [Fact]
    public void A_base_file_from_other_windows_is_refused_with_what_differs()
    {
        var windows = new PerplexityWindows(Text(40), 8, 8, ByteTokenizer.Bos);
        string path = Write(windows, 259);
        using var reader = BaseLogitsFile.Open(path);
        void Refused(PerplexityWindows other, int vocab, string expected) =>
            Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => reader.EnsureMatches(other, vocab)).Message);

        Refused(windows, 300, "was saved from a model with a vocabulary of 259 tokens; this model has 300");
        Refused(new PerplexityWindows(Text(40), 9, 8, ByteTokenizer.Bos), 259, "was saved with windows of 8 tokens; this run uses 9 (pass --ctx 8)");
        Refused(new PerplexityWindows(Text(40), 8, 8, null), 259, "was saved with BOS id 256 over each window's first token; this tokenizer gives no BOS");
        Refused(new PerplexityWindows(Text(41), 8, 8, ByteTokenizer.Bos), 259, "was saved from a text of 41 tokens; this text has 42");
        var changed = Text(40).ToArray();
        changed[17] = 'z';
        Refused(new PerplexityWindows(changed, 8, 8, ByteTokenizer.Bos), 259, "was saved from a different text: token #17 is id");
    }

    [Fact]
    public void Truncated_foreign_and_unfinished_base_files_are_refused()
    {
        var windows = new PerplexityWindows(Text(40), 8, 8, ByteTokenizer.Bos);
        string path = Write(windows, 259);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => BaseLogitsFile.Open(path)).Message);
        File.WriteAllBytes(path, "GGUF and more bytes than a header holds"u8.ToArray());
        Assert.Contains("is not a base log-probability file", Assert.Throws<InvalidDataException>(() => BaseLogitsFile.Open(path)).Message);
        bytes[8] = 2;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("is version 2 of the base log-probability format; this frugal reads version 1",
            Assert.Throws<InvalidDataException>(() => BaseLogitsFile.Open(path)).Message);

        string unfinished = Path.Combine(_dir, "unfinished.kld");
        using (var writer = BaseLogitsFile.Create(unfinished, windows, 259)) writer.Write(new float[259]);
        Assert.False(File.Exists(unfinished));
        Assert.False(File.Exists(unfinished + ".partial"));
    }

    private string Write(PerplexityWindows windows, int vocab)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".kld");
        using var writer = BaseLogitsFile.Create(path, windows, vocab);
        windows.Evaluate(new FakeModel((_, _) => 'q', vocab, 16), (logits, _) => writer.Write(logits));
        writer.Complete();
        return path;
    }

    /// <summary>BOS and <paramref name="bytes"/> letters of a repeating alphabet.</summary>
    private static int[] Text(int bytes) => [ByteTokenizer.Bos, .. Enumerable.Range(0, bytes).Select(i => 'a' + i % 26)];
}
