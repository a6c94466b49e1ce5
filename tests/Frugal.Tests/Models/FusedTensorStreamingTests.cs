using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;

namespace Frugal.Tests.Models;

/// <summary>
/// Phi-3's fused attn_qkv and gate-up ffn_up are row ranges of one tensor: under <c>--mem-budget</c> each range is read
/// from its own place inside the tensor, and the logits equal the resident run bit for bit.
/// </summary>
public class FusedTensorStreamingTests
{
    private const long MiB = 1 << 20;

    // ~36 MB in Q8_0: 8 phi3 layers of ~4.2 MB (width 512, 8 + 4 heads of 64, FFN 2048, 48 of 64 dims rotated), vocab 4096.
    private static SyntheticModelSpec Spec => new()
    {
        Family = SyntheticFamily.Phi3,
        EmbeddingLength = 512,
        BlockCount = 8,
        HeadCount = 8,
        HeadCountKv = 4,
        HeadDim = 64,
        FeedForwardLength = 2048,
        VocabSize = 4096,
        ContextLength = 1024,
        RopeFreqBase = 10000f,
        RopeDimensionCount = 48,
        LongRope = new LongRopeScaling(128),
        SlidingWindow = 2047,
        WeightType = GgmlType.Q8_0,
        Seed = 78,
    };

    [Fact]
    public void A_budget_half_the_model_streams_fused_tensors_and_computes_the_same_logits()
    {
        string path = SyntheticFixtures.PathOf(Spec);
        int[] prompt = Enumerable.Range(0, 40).Select(i => (i * 131 + 7) % 4096).ToArray();

        using var full = ModelLoader.Load(path);
        var expected = Logits(full, prompt);

        using var budgeted = ModelLoader.Load(path, new ModelLoadOptions { MemoryBudget = 20 * MiB });
        Assert.True(budgeted.Residency!.IsStreaming);
        Assert.NotEmpty(budgeted.Residency.StreamedLayers);
        var actual = Logits(budgeted, prompt);

        Assert.True(expected.AsSpan().SequenceEqual(actual), "streamed logits differ from resident ones");
        Assert.True(budgeted.StreamCounters!.Value.BytesRead > 0);
    }

    private static float[] Logits(ILanguageModel lm, int[] prompt)
    {
        var cache = lm.CreateCache(prompt.Length);
        var logits = new float[prompt.Length * lm.Config.VocabSize];
        lm.Forward(prompt, cache, logits, allLogits: true);
        return logits;
    }
}
