using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Residency;
using Frugal.Models.Synthetic;
using Frugal.Numerics;

namespace Frugal.Tests.Models;

/// <summary>
/// <c>--mem-budget</c>: a model about twice its budget, loaded with and without it, must compute the same logits bit
/// for bit (the streamed layers are repacked into the same kernel layout as resident ones) and really stream: the
/// counters say how many layers and bytes were read from the file.
/// </summary>
public class MemoryBudgetTests
{
    // ~36 MB in Q8_0: 8 layers of ~4.2 MB (width 512, 8 + 4 heads of 64, FFN 2048), vocab 4096.
    internal static SyntheticModelSpec Spec(bool tied) => new()
    {
        Family = SyntheticFamily.Llama3,
        EmbeddingLength = 512,
        BlockCount = 8,
        HeadCount = 8,
        HeadCountKv = 4,
        HeadDim = 64,
        FeedForwardLength = 2048,
        VocabSize = 4096,
        ContextLength = 128,
        RopeFreqBase = 500000f,
        TiedEmbeddings = tied,
        WeightType = GgmlType.Q8_0,
        Seed = 77,
    };

    private const long MiB = 1 << 20;

    /// <summary>Greedy: a prompt in one forward, then <paramref name="steps"/> single-token forwards; every logit row kept.</summary>
    private static (List<int> Tokens, List<float[]> Logits) Generate(ILanguageModel lm, int[] prompt, int steps)
    {
        var cache = lm.CreateCache(prompt.Length + steps);
        var logits = new float[lm.Config.VocabSize];
        var rows = new List<float[]>();
        var tokens = new List<int>();
        lm.Forward(prompt, cache, logits);
        rows.Add((float[])logits.Clone());
        for (int i = 0; i < steps; i++)
        {
            int next = Array.IndexOf(logits, logits.Max());
            tokens.Add(next);
            lm.Forward([next], cache, logits);
            rows.Add((float[])logits.Clone());
        }
        return (tokens, rows);
    }

    [Theory]
    [InlineData(false, 20)] // untied: output and embedding pinned, the first layers resident, the rest streamed
    [InlineData(false, 10)] // untied: the output streamed too, the embedding gathered by rows from the file
    [InlineData(true, 10)]  // tied: the embedding streams each step as the output, and its rows are read from the file
    public void A_budget_half_the_model_streams_layers_and_computes_the_same_logits(bool tied, int budgetMiB)
    {
        string path = SyntheticFixtures.PathOf(Spec(tied));
        Assert.True(new FileInfo(path).Length > 2 * budgetMiB * MiB * 0.8, "the file should be about twice the budget or more");
        int[] prompt = Enumerable.Range(0, 24).Select(i => (i * 131 + 7) % 4096).ToArray();
        const int steps = 6;

        using var full = ModelLoader.Load(path);
        var expected = Generate(full, prompt, steps);
        Assert.Null(full.StreamCounters);

        using var budgeted = ModelLoader.Load(path, new ModelLoadOptions { MemoryBudget = budgetMiB * MiB });
        var r = budgeted.Residency!;
        Assert.True(r.IsStreaming);
        Assert.True(r.PeakWeightBytes <= budgetMiB * MiB);
        Assert.NotEmpty(r.StreamedLayers);
        var actual = Generate(budgeted, prompt, steps);

        Assert.Equal(expected.Tokens, actual.Tokens);
        for (int i = 0; i < expected.Logits.Count; i++)
            Assert.True(expected.Logits[i].AsSpan().SequenceEqual(actual.Logits[i]), $"logits of forward {i} differ");

        // Every forward (the prompt's and each step's) used each streamed unit once: the prompt's 24 tokens shared one read.
        var c = budgeted.StreamCounters!.Value;
        int forwards = steps + 1, unitsPerStep = r.StreamedLayers.Count + r.StreamedGlobals.Count;
        Assert.Equal(forwards * unitsPerStep, c.UnitsUsed);
        Assert.Equal(forwards * r.StreamedBytes, c.BytesUsed);
        Assert.True(c.BytesRead >= c.BytesUsed);
        bool rowsFromFile = r.EmbeddingGathered || r.StreamedGlobals.Contains("token_embd.weight");
        Assert.Equal(rowsFromFile ? prompt.Length + steps : 0, c.EmbeddingRowsRead);
        Assert.Equal(budgetMiB == 10, r.StreamedGlobals.Count > 0 || r.EmbeddingGathered);
    }

    [Fact]
    public void A_budget_below_the_norms_and_two_buffers_is_refused_naming_the_smallest_that_works()
    {
        string path = SyntheticFixtures.PathOf(Spec(tied: false));
        using var file = GgufFile.Open(path);
        var e = Assert.Throws<ArgumentException>(() => ModelLoader.Load(file, new ModelLoadOptions { MemoryBudget = 2 * MiB }));
        Assert.Equal(nameof(ModelLoadOptions.MemoryBudget), e.ParamName);
        Assert.Contains("is too small for this model", e.Message);
        Assert.Contains("need at least", e.Message);
    }

    [Fact]
    public void A_budget_the_model_fits_in_streams_nothing()
    {
        string path = SyntheticFixtures.PathOf(Spec(tied: false));
        using var lm = ModelLoader.Load(path, new ModelLoadOptions { MemoryBudget = 1L << 30 });
        Assert.False(lm.Residency!.IsStreaming);
        Assert.Null(lm.StreamCounters);
    }

    [Fact]
    public void The_policy_counts_streamed_matrices_in_the_layout_the_stream_buffers_hold()
    {
        string path = SyntheticFixtures.PathOf(Spec(tied: false));
        using var file = GgufFile.Open(path);
        var q = file.GetTensor("blk.0.attn_q.weight");
        var t = WeightTensor.From(q);
        Assert.Equal(q.ByteSize, t.Bytes);
        Assert.Equal(StreamedMatrix.Bytes(q.Type, 512, 512), t.MemoryBytes);
        Assert.True(t.MemoryBytes >= t.Bytes); // Q8_0's kernel layout adds its block sums where it repacks
    }
}
