using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Models;

/// <summary>
/// Steps of a small model split by rows (each team member runs every layer for its share of the step's tokens) must
/// compute exactly what one thread computes: the same logits bit for bit, and the same keys and values in the cache
/// (checked through the later steps that attend to them). Three sequences step together in chunks of 0-30 tokens, so
/// members' shares start and end inside sequences, and steps too small to split run between split ones.
/// </summary>
public class RowSplitStepTests
{
    public static TheoryData<SyntheticFamily, GgmlType> Models()
    {
        var data = new TheoryData<SyntheticFamily, GgmlType>();
        foreach (var family in Enum.GetValues<SyntheticFamily>().Where(f => f != SyntheticFamily.Olmoe)) data.Add(family, GgmlType.F16);
        data.Add(SyntheticFamily.Llama3, GgmlType.Q8_0);
        data.Add(SyntheticFamily.Qwen3, GgmlType.Q4_0);
        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Steps_split_by_rows_give_the_one_thread_logits_bit_for_bit(SyntheticFamily family, GgmlType type)
    {
        string path = SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(family, type));
        using var one = new ComputeTeam(1);
        var (expected, oneSplits) = Run(path, one);
        Assert.Equal(0, oneSplits);
        foreach (int threads in new[] { 2, 3 })
        {
            using var team = new ComputeTeam(threads);
            var (actual, splits) = Run(path, team);
            // Steps of 8+ tokens per member split; smaller ones run split by matrix, as before.
            int expectedSplits = Chunks.Count(step => step.Sum() >= DecoderTransformer.RowSplitMinRowsPerMember * threads);
            Assert.InRange(expectedSplits, 4, Chunks.Length - 1);
            Assert.Equal(expectedSplits, splits);
            Assert.Equal(expected.Count, actual.Count);
            for (int s = 0; s < expected.Count; s++)
                Assert.True(expected[s].AsSpan().SequenceEqual(actual[s]), $"{threads} threads: step {s} logits differ from one thread's");
        }
    }

    /// <summary>Quantized and KIVI caches: the caller writes every row's keys and values, the members read them.</summary>
    [Theory]
    [InlineData(KvElementType.Q8_0, KvElementType.Q4_0)]
    [InlineData(KvElementType.Kivi2, KvElementType.Kivi4)]
    public void Split_steps_over_quantized_caches_give_the_one_thread_logits(KvElementType keys, KvElementType values)
    {
        string path = SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, GgmlType.F16));
        var types = new KvCacheTypes(keys, values);
        using var one = new ComputeTeam(1);
        using var two = new ComputeTeam(2);
        var (expected, _) = Run(path, one, types);
        var (actual, splits) = Run(path, two, types);
        Assert.True(splits > 0);
        for (int s = 0; s < expected.Count; s++)
            Assert.True(expected[s].AsSpan().SequenceEqual(actual[s]), $"step {s} logits differ from one thread's");
    }

    [Fact]
    public void Mixture_of_experts_steps_are_never_split()
    {
        string path = SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(SyntheticFamily.Qwen3, GgmlType.F16, seed: 33) with
        {
            Family = SyntheticFamily.Olmoe, HeadCountKv = 4, HeadDim = 32, FeedForwardLength = 128, Experts = new SyntheticExperts(16, 4, 128),
        });
        using var one = new ComputeTeam(1);
        using var two = new ComputeTeam(2);
        var (expected, _) = Run(path, one);
        var (actual, splits) = Run(path, two);
        Assert.Equal(0, splits);
        for (int s = 0; s < expected.Count; s++)
            Assert.True(expected[s].AsSpan().SequenceEqual(actual[s]), $"step {s} logits differ from one thread's");
    }

    /// <summary>Tokens each of the three sequences adds per step (0: sits the step out).</summary>
    private static readonly int[][] Chunks =
    [
        [9, 3, 5], [1, 1, 1], [14, 0, 2], [1, 6, 1], [20, 2, 3], [1, 0, 0], [5, 11, 9], [0, 7, 9], [8, 8, 8], [1, 1, 0], [30, 1, 2],
    ];

    /// <summary>Every step's logits (every row of every sequence) on a fresh model and store run by <paramref name="team"/>.</summary>
    private static (List<float[]> Logits, long SplitSteps) Run(string path, ComputeTeam team, KvCacheTypes types = default)
    {
        if (types == default) types = KvCacheTypes.Default;
        int blockSize = KvElementTypes.DefaultBlockSize(types);
        using var model = (DecoderTransformer)ModelLoader.Load(path);
        model.Team = team;
        int vocab = model.Config.VocabSize;
        int perSequence = (Chunks.Sum(step => step.Max()) + blockSize - 1) / blockSize;
        var store = model.CreatePagedStore(3 * perSequence, blockSize, types, residualSlots: 3);
        var tables = Enumerable.Range(0, 3).Select(j => (IReadOnlyList<int>)Enumerable.Range(j * perSequence, perSequence).Reverse().ToArray()).ToArray();
        var rng = new Random(11);
        var next = new int[3];
        var steps = new List<float[]>();
        foreach (var chunk in Chunks)
        {
            var batch = new List<BatchSequence>();
            for (int j = 0; j < 3; j++)
            {
                if (chunk[j] == 0) continue;
                var tokens = Enumerable.Range(0, chunk[j]).Select(_ => rng.Next(vocab)).ToArray();
                batch.Add(new BatchSequence(tokens, next[j], tables[j], WantLogits: true, AllLogits: true));
                next[j] += chunk[j];
            }
            var logits = new float[chunk.Sum() * vocab];
            model.ForwardBatch(batch, store, logits);
            steps.Add(logits);
        }
        return (steps, model.RowSplitSteps);
    }
}
