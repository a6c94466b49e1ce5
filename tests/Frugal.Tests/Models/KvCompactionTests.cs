using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics.Attention;

namespace Frugal.Tests.Models;

/// <summary>
/// <see cref="IBatchedLanguageModel.CompactKv"/> against a fresh computation. In a one-layer model a position's key and
/// value depend only on its token and position (K = RoPE(Wk·norm(embedding)), V = Wv·norm(embedding)), so after
/// compaction every kept slot must hold exactly what a fresh forward of the kept tokens at positions 0..m-1 stores, and
/// the next token's logits must equal that fresh sequence's.
/// </summary>
public class KvCompactionTests
{
    private const int BlockSize = 16, Length = 48;

    // Sinks, a few scattered survivors (as KeyDiff keeps them), then the recent run; slots 0..3 keep their place.
    private static readonly int[] Kept = [0, 1, 2, 3, 7, 9, 13, .. Enumerable.Range(30, Length - 30)];

    // Block ids out of order, so a table indexing slip shows.
    private static readonly int[] Table = [5, 2, 7, 0];

    public static TheoryData<SyntheticFamily, KvElementType, bool> Cases() => new()
    {
        { SyntheticFamily.Llama3, KvElementType.F16, false },  // normal RoPE with rope_freqs factors
        { SyntheticFamily.Llama3, KvElementType.F32, false },
        { SyntheticFamily.Llama3, KvElementType.Q8_0, false },
        { SyntheticFamily.Qwen2, KvElementType.F16, false },   // NeoX RoPE, K bias
        { SyntheticFamily.Qwen2, KvElementType.F32, true },    // keys stored Walsh-Hadamard rotated
        { SyntheticFamily.Qwen2, KvElementType.Q8_0, true },
        { SyntheticFamily.Gemma3, KvElementType.F16, false },  // a local layer: RoPE base 10000, not the global 1e6 with scaling 8
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Compacted_keys_equal_keys_computed_fresh_at_the_new_positions(SyntheticFamily family, KvElementType keyType, bool rotate)
    {
        using var model = OneLayer(family);
        var types = new KvCacheTypes(keyType, KvElementType.F16, rotate);
        var tokens = Tokens(Length, seed: 11);
        var store = model.CreatePagedStore(8, BlockSize, types);
        Run(model, store, Table, tokens, 0);
        model.CompactKv(store, Table, Length, Kept);

        var fresh = model.CreatePagedStore(8, BlockSize, types);
        int[] contiguous = [0, 1, 2, 3];
        Run(model, fresh, contiguous, Kept.Select(s => tokens[s]).ToArray(), 0);

        int hd = store.HeadDim;
        var got = new float[hd];
        var want = new float[hd];
        for (int slot = 0; slot < Kept.Length; slot++)
            for (int h = 0; h < store.KvHeads; h++)
            {
                store.ReadKey(0, Table, slot, h, got);
                fresh.ReadKey(0, contiguous, slot, h, want);
                float amax = want.Max(MathF.Abs);
                // f16/f32: the move adds one rounding of the re-rotated key; q8_0: one quantization step of its block.
                float tolerance = keyType switch
                {
                    KvElementType.F32 => 1e-4f * amax,
                    KvElementType.F16 => 2e-3f * amax,
                    _ => 3f * amax / 127,
                };
                for (int d = 0; d < hd; d++)
                    Assert.True(MathF.Abs(got[d] - want[d]) <= tolerance,
                        $"slot {slot} (from {Kept[slot]}), head {h}, element {d}: {got[d]} vs fresh {want[d]} (tolerance {tolerance})");
            }
    }

    [Theory]
    [InlineData(SyntheticFamily.Llama3, false)]
    [InlineData(SyntheticFamily.Qwen2, false)]
    [InlineData(SyntheticFamily.Qwen2, true)]
    [InlineData(SyntheticFamily.Gemma3, false)]
    public void Logits_after_a_context_shift_equal_a_fresh_forward_of_the_kept_tokens(SyntheticFamily family, bool rotate)
    {
        using var model = OneLayer(family);
        var types = new KvCacheTypes(KvElementType.F32, KvElementType.F32, rotate);
        int vocab = model.Config.VocabSize;
        var tokens = Tokens(Length + 1, seed: 12);
        // llama.cpp's shift with n_keep 4: drop half of the rest after the kept head, move the others down.
        const int keep = 4;
        int discard = (Length - keep) / 2;
        int[] kept = [.. Enumerable.Range(0, keep), .. Enumerable.Range(keep + discard, Length - keep - discard)];

        var store = model.CreatePagedStore(8, BlockSize, types);
        Run(model, store, Table, tokens.AsSpan(0, Length).ToArray(), 0);
        model.CompactKv(store, Table, Length, kept);
        var shifted = Run(model, store, Table, [tokens[Length]], kept.Length);

        var fresh = model.CreatePagedStore(8, BlockSize, types);
        var expected = Run(model, fresh, [0, 1, 2, 3], [.. kept.Select(s => tokens[s]), tokens[Length]], 0);

        double cosine = LogitComparison.Cosine(expected, shifted);
        Assert.True(cosine >= 0.9999, $"cosine {cosine:F7} (max |diff| {LogitComparison.MaxAbsDiff(expected, shifted):G4})");
        Assert.Equal(LogitComparison.ArgMax(expected), LogitComparison.ArgMax(shifted));
        Assert.Equal(vocab, shifted.Length);
    }

    [Fact]
    public void Kept_slots_must_ascend_and_lie_inside_the_sequence()
    {
        using var model = OneLayer(SyntheticFamily.Llama3);
        var store = model.CreatePagedStore(8, BlockSize);
        Run(model, store, Table, Tokens(20, seed: 1), 0);
        var e = Assert.Throws<ArgumentException>(() => model.CompactKv(store, Table, 20, [0, 5, 5]));
        Assert.StartsWith("kept slots must ascend; #2 is 5 after 5", e.Message);
        var o = Assert.Throws<ArgumentOutOfRangeException>(() => model.CompactKv(store, Table, 20, [0, 20]));
        Assert.StartsWith("kept slot #1 is 20, outside the sequence's [0, 20)", o.Message);
    }

    [Fact]
    public void Key_similarity_scores_a_key_unlike_the_others_lowest()
    {
        using var model = OneLayer(SyntheticFamily.Qwen2);
        var store = model.CreatePagedStore(8, BlockSize);
        // The same token over and over (keys differ only by RoPE), and one other token in the middle.
        var tokens = Enumerable.Repeat(100, 24).ToArray();
        tokens[10] = 300;
        Run(model, store, Table, tokens, 0);
        var scores = new float[tokens.Length];
        store.KeySimilarityToMean(Table, tokens.Length, scores);
        Assert.All(scores, s => Assert.InRange(s, -1f, 1f));
        Assert.Equal(10, Array.IndexOf(scores, scores.Min()));
    }

    internal static IBatchedLanguageModel OneLayer(SyntheticFamily family) =>
        (IBatchedLanguageModel)ModelLoader.Load(SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(family, seed: 90) with { BlockCount = 1 }));

    internal static int[] Tokens(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(3, 512)).ToArray();
    }

    /// <summary>Evaluates <paramref name="tokens"/> from <paramref name="start"/> on; returns the last token's logits.</summary>
    internal static float[] Run(IBatchedLanguageModel model, PagedKvStore store, IReadOnlyList<int> table, int[] tokens, int start)
    {
        var logits = new float[model.Config.VocabSize];
        model.ForwardBatch([new BatchSequence(tokens, start, table, WantLogits: true)], store, logits);
        return logits;
    }
}
