using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics.Attention;

namespace Frugal.Tests.Models;

/// <summary>
/// Context shift (<see cref="IBatchedLanguageModel.CompactKv"/>) under the RoPE variants: YaRN's blended angles and its
/// magnitude, LongRoPE's factors and attention factor (a shift turns keys by the delta without scaling them again): in a
/// one-layer model the logits after the shift equal a fresh forward of the kept tokens (<see cref="KvCompactionTests"/>).
/// SmolLM3's layers without RoPE move their keys without turning them. KIVI stores (which undo each layer's RoPE to
/// code keys) stay close to exact ones.
/// </summary>
public class ScaledRopeCompactionTests
{
    private const int BlockSize = 16, Length = 48;
    private static readonly int[] Table = [5, 2, 7, 0];

    public static TheoryData<string> Models() => ["phi3-longrope", "qwen2-yarn", "smollm3"];

    private static IBatchedLanguageModel Load(string name, int layers = 0)
    {
        var spec = name switch
        {
            "phi3-longrope" => SyntheticModelSpec.Tiny(SyntheticFamily.Phi3, seed: 91) with { ContextLength = 4096 },
            "qwen2-yarn" => SyntheticModelSpec.Tiny(SyntheticFamily.Qwen2, seed: 91) with { ContextLength = 16384, Yarn = new YarnRopeScaling(4f, 4096) },
            _ => SyntheticModelSpec.Tiny(SyntheticFamily.SmolLM3, seed: 91),
        };
        return (IBatchedLanguageModel)ModelLoader.Load(SyntheticFixtures.PathOf(layers > 0 ? spec with { BlockCount = layers } : spec));
    }

    [Theory]
    [InlineData("phi3-longrope")]
    [InlineData("qwen2-yarn")]
    public void Logits_after_a_context_shift_equal_a_fresh_forward_of_the_kept_tokens(string name)
    {
        using var model = Load(name, layers: 1);
        var types = new KvCacheTypes(KvElementType.F32, KvElementType.F32);
        var tokens = KvCompactionTests.Tokens(Length + 1, seed: 13);
        const int keep = 4, discard = (Length - keep) / 2;
        int[] kept = [.. Enumerable.Range(0, keep), .. Enumerable.Range(keep + discard, Length - keep - discard)];

        var store = model.CreatePagedStore(8, BlockSize, types);
        KvCompactionTests.Run(model, store, Table, tokens[..Length], 0);
        model.CompactKv(store, Table, Length, kept);
        var shifted = KvCompactionTests.Run(model, store, Table, [tokens[Length]], kept.Length);

        var fresh = model.CreatePagedStore(8, BlockSize, types);
        var expected = KvCompactionTests.Run(model, fresh, [0, 1, 2, 3], [.. kept.Select(s => tokens[s]), tokens[Length]], 0);

        double cosine = LogitComparison.Cosine(expected, shifted);
        Assert.True(cosine >= 0.9999, $"cosine {cosine:F7} (max |diff| {LogitComparison.MaxAbsDiff(expected, shifted):G4})");
        Assert.Equal(LogitComparison.ArgMax(expected), LogitComparison.ArgMax(shifted));
    }

    [Fact]
    public void A_shift_moves_the_keys_of_a_layer_without_rope_unturned()
    {
        using var model = Load("smollm3");   // layer 3 of 0..3 takes no RoPE
        var store = model.CreatePagedStore(8, BlockSize, new KvCacheTypes(KvElementType.F32, KvElementType.F32));
        var tokens = KvCompactionTests.Tokens(Length, seed: 15);
        KvCompactionTests.Run(model, store, Table, tokens, 0);
        int[] kept = [0, 1, 2, 3, .. Enumerable.Range(30, Length - 30)];
        float[][,] Keys(int layer, IReadOnlyList<int> slots)
        {
            var keys = new float[slots.Count][,];
            var row = new float[store.HeadDim];
            for (int i = 0; i < slots.Count; i++)
            {
                keys[i] = new float[store.KvHeads, store.HeadDim];
                for (int h = 0; h < store.KvHeads; h++)
                {
                    store.ReadKey(layer, Table, slots[i], h, row);
                    for (int d = 0; d < row.Length; d++) keys[i][h, d] = row[d];
                }
            }
            return keys;
        }
        var before = (NoPe: Keys(3, kept), Roped: Keys(2, kept));
        model.CompactKv(store, Table, Length, kept);
        var slots = Enumerable.Range(0, kept.Length).ToArray();
        var after = (NoPe: Keys(3, slots), Roped: Keys(2, slots));
        for (int i = 0; i < kept.Length; i++)
        {
            Assert.Equal(before.NoPe[i], after.NoPe[i]);                         // moved as they were
            if (kept[i] != i) Assert.NotEqual(before.Roped[i], after.Roped[i]);  // turned by the delta
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Kivi_keys_under_scaled_or_absent_rope_stay_close_to_exact_ones(string name)
    {
        using var model = Load(name);
        var tokens = KvCompactionTests.Tokens(Length, seed: 14);
        var exact = KvCompactionTests.Run(model, model.CreatePagedStore(8, 32, new KvCacheTypes(KvElementType.F32, KvElementType.F32)), Table, tokens, 0);
        var kivi = KvCompactionTests.Run(model, model.CreatePagedStore(8, 32, new KvCacheTypes(KvElementType.Kivi4, KvElementType.F16), residualSlots: 1), Table, tokens, 0);
        double cosine = LogitComparison.Cosine(exact, kivi);
        Assert.True(cosine >= 0.99, $"cosine {cosine:F6} of 4-bit KIVI keys against f32 keys");
    }
}
