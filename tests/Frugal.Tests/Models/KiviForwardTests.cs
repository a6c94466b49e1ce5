using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics.Attention;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>
/// KIVI through the model's one forward path: sequences sharing a step over one KIVI store (shuffled block tables,
/// one residual slot each, or more) give each sequence the logits it gets alone in its own cache. (With fewer slots
/// than sequences decoding side by side, each step codes another sequence's partial block early and reopens its own,
/// and the error compounds: one slot for these three gave a worst cosine of 0.47. The engine gives every running
/// sequence a slot.)
/// </summary>
public class KiviForwardTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(KvElementType.Kivi2, KvElementType.Kivi2, 3, 0.99999)]
    [InlineData(KvElementType.Kivi4, KvElementType.Q8_0, 3, 0.99999)]
    [InlineData(KvElementType.Kivi2, KvElementType.Kivi4, 5, 0.99999)]   // more slots than sequences
    public void Staggered_sequences_over_one_kivi_store_match_each_sequence_alone(KvElementType k, KvElementType v, int slots, double minCosine)
    {
        const int length = 80, bs = 32;
        var types = new KvCacheTypes(k, v);
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Llama3);
        using var model = (IBatchedLanguageModel)ModelLoader.Load(SyntheticFixtures.PathOf(spec));
        int vocab = spec.VocabSize;
        var prompts = Enumerable.Range(0, 3).Select(j => LlamaCppParityTests.Prompt(vocab, seed: 70 + j, length)).ToArray();
        int[] first = [37, 5, 1];   // then one token per step: chunks and decodes cross the block boundaries at 32 and 64
        IReadOnlyList<int>[] tables = [[4, 0, 7], [2, 8, 5], [6, 1, 3]];
        var store = model.CreatePagedStore(9, bs, types, slots);

        var batched = prompts.Select(_ => new List<float[]>()).ToArray();
        var next = new int[3];
        for (int step = 0; next.Any(n => n < length); step++)
        {
            var batch = new List<BatchSequence>();
            var order = new List<int>();
            for (int i = 0; i < 3; i++)
            {
                int j = (i + step) % 3;
                if (next[j] >= length) continue;
                int count = next[j] == 0 ? first[j] : 1;
                batch.Add(new BatchSequence(prompts[j].AsMemory(next[j], count), next[j], tables[j], WantLogits: true));
                order.Add(j);
                next[j] += count;
            }
            var logits = new float[batch.Count * vocab];
            model.ForwardBatch(batch, store, logits);
            for (int r = 0; r < order.Count; r++) batched[order[r]].Add(logits.AsSpan(r * vocab, vocab).ToArray());
        }

        double worst = 1, worstVsF16 = 1;
        for (int j = 0; j < 3; j++)
        {
            var alone = Alone(model, prompts[j], first[j], types, vocab);
            var f16 = Alone(model, prompts[j], first[j], KvCacheTypes.Default, vocab);
            Assert.Equal(alone.Count, batched[j].Count);
            for (int s = 0; s < alone.Count; s++)
            {
                worst = Math.Min(worst, LogitComparison.Cosine(alone[s], batched[j][s]));
                worstVsF16 = Math.Min(worstVsF16, LogitComparison.Cosine(f16[s], batched[j][s]));
            }
        }
        output.WriteLine($"{types}, {slots} slots: worst cosine against each sequence alone {worst:F8}, against f16 {worstVsF16:F8}");
        Assert.True(worst >= minCosine, $"worst cosine {worst} against each sequence alone");
        Assert.True(worstVsF16 < 0.999999, $"the KIVI logits equal f16's (worst cosine {worstVsF16}): nothing was coded?");
    }

    [Theory]
    [InlineData(SyntheticFamily.Llama3, KvElementType.Kivi4, KvElementType.Kivi4, false)]
    [InlineData(SyntheticFamily.Qwen2, KvElementType.Kivi2, KvElementType.F16, false)]
    [InlineData(SyntheticFamily.Qwen2, KvElementType.Q4_0, KvElementType.Kivi2, true)]
    [InlineData(SyntheticFamily.Qwen2, KvElementType.F16, KvElementType.Kivi2, false)]
    public void Compaction_of_a_kivi_store_rewrites_the_kept_keys_at_their_new_positions(SyntheticFamily family, KvElementType k, KvElementType v, bool rotate)
    {
        // A one-layer model: a kept key must be what a fresh forward of the kept tokens computes at its new position,
        // within the codes' error (the moved keys are re-coded over their new blocks), and the next token's logits close.
        const int length = 80, bs = 32;
        using var model = KvCompactionTests.OneLayer(family);
        var types = new KvCacheTypes(k, v, rotate);
        var tokens = KvCompactionTests.Tokens(length + 1, seed: 21);
        int[] kept = [0, 1, 2, 3, 9, 13, .. Enumerable.Range(40, length - 40)];
        int[] table = [3, 0, 2];
        var store = model.CreatePagedStore(4, bs, types, residualSlots: 2);
        KvCompactionTests.Run(model, store, table, tokens[..length], 0);
        model.CompactKv(store, table, length, kept);
        var shifted = KvCompactionTests.Run(model, store, table, [tokens[length]], kept.Length);

        var exact = model.CreatePagedStore(4, bs, new KvCacheTypes(KvElementType.F32, KvElementType.F32));
        int[] contiguous = [0, 1, 2];
        KvCompactionTests.Run(model, exact, contiguous, kept.Select(s => tokens[s]).ToArray(), 0);
        var fresh = model.CreatePagedStore(4, bs, types, residualSlots: 2);
        var expected = KvCompactionTests.Run(model, fresh, contiguous, [.. kept.Select(s => tokens[s]), tokens[length]], 0);

        // Against the exact keys: the compacted store's error is at most a few times what coding them fresh costs.
        double Worst(PagedKvStore s, int[] t)
        {
            int hd = s.HeadDim;
            var got = new float[hd];
            var want = new float[hd];
            double worst = 0;
            for (int slot = 0; slot < kept.Length; slot++)
                for (int h = 0; h < s.KvHeads; h++)
                {
                    s.ReadKey(0, t, slot, h, got);
                    exact.ReadKey(0, contiguous, slot, h, want);
                    float amax = want.Max(MathF.Abs);
                    for (int d = 0; d < hd; d++) worst = Math.Max(worst, Math.Abs(got[d] - want[d]) / amax);
                }
            return worst;
        }
        double compacted = Worst(store, table), coded = Worst(fresh, contiguous);
        Assert.True(compacted <= 2.5 * coded + 0.01, $"worst key error {compacted} of the row's max after compaction, {coded} coded fresh");
        double cosine = LogitComparison.Cosine(expected, shifted);
        output.WriteLine($"{types}: worst key error {compacted:F4} of the row's max ({coded:F4} coded fresh); next-token logits cosine against a fresh {types} run {cosine:F6}");
        // 2-bit keys coded over different blocks than a fresh run's differ by up to a step each: on this random one-layer
        // model that moves the logits visibly (cosine 0.89 measured), so kivi2 keys are held to the key bound above.
        Assert.True(cosine >= (k == KvElementType.Kivi2 ? 0.8 : 0.99), $"cosine {cosine:F6}");
    }

    /// <summary>Last-row logits of every step of one sequence in its own cache, with the same chunks.</summary>
    private static List<float[]> Alone(IBatchedLanguageModel model, int[] prompt, int first, KvCacheTypes types, int vocab)
    {
        var cache = model.CreateCache(prompt.Length, types);
        var rows = new List<float[]>();
        for (int p = 0; p < prompt.Length;)
        {
            int count = p == 0 ? first : 1;
            var logits = new float[vocab];
            model.Forward(prompt.AsSpan(p, count), cache, logits);
            rows.Add(logits);
            p += count;
        }
        return rows;
    }
}
