using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Ops;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>
/// KIVI K/V (kivi2, kivi4): the per-channel / per-token round-trip bounds, the f16 residual of the block being filled
/// and its hand-over to the codes, copies, reclaimed slots, the bytes per position, and attention over it all against
/// the scalar oracle.
/// </summary>
public sealed unsafe class KiviTests
{
    private const int Hd = 64, KvHeads = 2;

    /// <summary>Keys with outlier channels (as real keys have: a few channels 20x the rest, some offset), values plain.</summary>
    private static float[] Keys(Random rng, int positions, int kvHeads = KvHeads, int hd = Hd)
    {
        var x = Gaussian(rng, positions * kvHeads * hd, 1f);
        for (int i = 0; i < x.Length; i++)
            if (i % hd % 13 == 5) x[i] = 20 * x[i] + 7;
        return x;
    }

    [Theory]
    [InlineData(KvElementType.Kivi2, 32)]
    [InlineData(KvElementType.Kivi4, 32)]
    [InlineData(KvElementType.Kivi2, 64)]
    [InlineData(KvElementType.Kivi4, 128)]
    public void A_full_block_reads_back_within_half_a_step_per_key_channel_and_no_worse_than_min_max_per_value_group(KvElementType type, int blockSize)
    {
        int levels = (1 << KvElementTypes.KiviBits(type)) - 1;
        var store = new PagedKvStore(1, 3, blockSize, KvHeads, Hd, new KvCacheTypes(type, type));
        var rng = new Random(blockSize + levels);
        var k = Keys(rng, blockSize);
        var v = Gaussian(rng, blockSize * KvHeads * Hd, 1f);
        store.Write(0, [2], 0, blockSize, k, v);
        Assert.Equal(-1, store.Layer(0).View.ResidualSlot(2));   // the block filled: coded, slot given back

        var (keys, values) = ReadBlock(store, 2, 0);
        var coded = ReadCodedKeys(store, 2);
        var basis = store.Layer(0).View.KeyBasis!;
        double worstKey = 0, worstValue = 0;
        for (int h = 0; h < KvHeads; h++)
        {
            var stored = ToStored(basis, k, h, 0, blockSize);   // the f16 keys in the basis they are coded in
            var squaredBound = new double[blockSize];
            for (int d = 0; d < Hd; d++)
            {
                // Per channel over the block's positions: half a step of (max - min) / levels, plus fp16 rounding.
                var channel = Enumerable.Range(0, blockSize).Select(p => (double)stored[p * Hd + d]).ToArray();
                double step = (channel.Max() - channel.Min()) / levels, bound = 0.5 * step * 1.002 + 1e-3 * channel.Max(Math.Abs);
                for (int p = 0; p < blockSize; p++)
                {
                    double e = Math.Abs(coded[h][p * Hd + d] - channel[p]);
                    Assert.True(e <= bound, $"{type} key head {h} channel {d} position {p}: error {e} > {bound}");
                    worstKey = Math.Max(worstKey, e / step);
                    squaredBound[p] += bound * bound;
                }
            }
            // Read back as the model computed them: the basis is orthonormal, so each key's error keeps its length.
            for (int p = 0; p < blockSize; p++)
            {
                double squared = 0;
                for (int d = 0; d < Hd; d++) squared += Math.Pow(keys[h][p * Hd + d] - (float)(Half)k[(p * KvHeads + h) * Hd + d], 2);
                Assert.True(squared <= squaredBound[p] * 1.0001 + 1e-8, $"{type} key head {h} position {p}: squared error {squared} > {squaredBound[p]}");
            }
            int vg = KiviCodec.ValueGroup(Hd);
            Assert.Equal(64, vg);
            for (int p = 0; p < blockSize; p++)
                for (int g = 0; g < Hd / vg; g++)
                {
                    // Per position over a group of 64 channels, fitted by least squares: no worse than min/max rounding
                    // in squared error, and within a step of the min/max range element by element.
                    var group = Enumerable.Range(g * vg, vg).Select(d => (float)(Half)v[(p * KvHeads + h) * Hd + d]).ToArray();
                    var (s, m) = KiviCodec.Fit(group.Min(), group.Max(), KvElementTypes.KiviBits(type));
                    double minMaxError = group.Sum(x => Math.Pow(x - (KiviCodec.Code(x, (float)s, (float)m, KvElementTypes.KiviBits(type)) * (float)s + (float)m), 2));
                    double step = (group.Max() - group.Min()) / levels, squared = 0;
                    for (int e = 0; e < vg; e++)
                    {
                        double err = Math.Abs(values[h][p * Hd + g * vg + e] - group[e]);
                        Assert.True(err <= step * 1.002, $"{type} value head {h} position {p} element {g * vg + e}: error {err} > a step {step}");
                        worstValue = Math.Max(worstValue, err / step);
                        squared += err * err;
                    }
                    Assert.True(squared <= minMaxError * (1 + 1e-5) + 1e-12, $"{type} value head {h} position {p} group {g}: squared error {squared} > min/max's {minMaxError}");
                }
        }
        // The codes are lossy (not a copy of the f16 residual): the worst error is close to half a step.
        Assert.InRange(worstKey, 0.3, 0.51);
        Assert.InRange(worstValue, 0.3, 1.0);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void Kivi2_keys_keep_half_an_entry_per_position_exact_at_their_channels_extremes_and_code_the_rest_over_a_narrower_range(int blockSize)
    {
        const int levels = 3;
        var store = new PagedKvStore(1, 2, blockSize, KvHeads, Hd, new KvCacheTypes(KvElementType.Kivi2, KvElementType.F16));
        var rng = new Random(41 + blockSize);
        var k = Keys(rng, blockSize);
        store.Write(0, [1], 0, blockSize, k, new float[k.Length]);
        var coded = ReadCodedKeys(store, 1);
        var basis = store.Layer(0).View.KeyBasis!;
        Assert.Equal(blockSize / 2, KiviCodec.ExactKeys(2, blockSize));
        Assert.Equal(0, KiviCodec.ExactKeys(4, blockSize));
        for (int h = 0; h < KvHeads; h++)
        {
            var stored = ToStored(basis, k, h, 0, blockSize);
            // The segment's entries: blockSize / 2 fp16 values, then their indexes position·256 + channel, in position order.
            int count = KiviCodec.ExactKeys(2, blockSize);
            byte* entries = store.Layer(0).View.KeySegment(1, h) + KiviCodec.ExactKeysOffset(2, Hd, blockSize);
            var index = Enumerable.Range(0, count).Select(e => (int)((ushort*)(entries + 2 * count))[e]).ToArray();
            Assert.Equal(index.Order(), index);
            Assert.Equal(count, index.Distinct().Count());
            var isExact = new bool[blockSize, Hd];
            for (int e = 0; e < count; e++)
            {
                int p = index[e] / KiviCodec.MaxExactKeyHeadDim, d = index[e] % KiviCodec.MaxExactKeyHeadDim;
                Assert.InRange(p, 0, blockSize - 1);
                Assert.InRange(d, 0, Hd - 1);
                isExact[p, d] = true;
                Assert.Equal((float)((Half*)entries)[e], coded[h][p * Hd + d]);   // read back exactly: the fp16 of the stored key
                Assert.Equal((float)(Half)stored[p * Hd + d], coded[h][p * Hd + d]);
            }
            double squared = 0, plainSquared = 0;
            for (int d = 0; d < Hd; d++)
            {
                var channel = Enumerable.Range(0, blockSize).Select(p => stored[p * Hd + d]).ToArray();
                var rest = Enumerable.Range(0, blockSize).Where(p => !isExact[p, d]).Select(p => (double)channel[p]).ToArray();
                for (int p = 0; p < blockSize; p++)
                {
                    if (isExact[p, d])
                    {
                        // It was its channel's lowest or highest entry when picked: outside the range of the rest.
                        Assert.True(channel[p] <= rest.Min() || channel[p] >= rest.Max(), $"head {h} channel {d} position {p}: an exact entry inside its channel's range");
                        continue;
                    }
                    // The rest: within half a step of the rest's own range (narrower than the whole channel's).
                    double step = (rest.Max() - rest.Min()) / levels, e = Math.Abs(coded[h][p * Hd + d] - channel[p]);
                    Assert.True(e <= 0.5 * step * 1.002 + 1e-3 * rest.Max(Math.Abs), $"head {h} channel {d} position {p}: error {e} > half a step {step / 2}");
                    squared += e * e;
                }
                // Plain KIVI (min/max over the whole channel), for comparison.
                var (s, m) = KiviCodec.Fit(channel.Min(), channel.Max(), 2);
                plainSquared += channel.Sum(x => Math.Pow(x - (KiviCodec.Code(x, (float)s, (float)m, 2) * (float)s + (float)m), 2));
            }
            Assert.True(squared < 0.9 * plainSquared, $"head {h}: squared error {squared} not below plain min/max coding's {plainSquared}");
        }
    }

    [Theory]
    [InlineData(KvElementType.Kivi2)]
    [InlineData(KvElementType.Kivi4)]
    public void Written_one_at_a_time_a_block_stays_f16_until_its_last_position_then_is_coded_and_its_slot_freed(KvElementType type)
    {
        const int bs = 32;
        var store = new PagedKvStore(1, 4, bs, KvHeads, Hd, new KvCacheTypes(type, type), residualSlots: 2);
        var residual = store.Layer(0).Residual!;
        var rng = new Random(7);
        var k = Keys(rng, 40);
        var v = Gaussian(rng, 40 * KvHeads * Hd, 1f);
        int[] table = [3, 1];
        for (int p = 0; p < 40; p++)
        {
            int kvDim = KvHeads * Hd;
            store.Write(0, table, p, 1, k.AsSpan(p * kvDim, kvDim), v.AsSpan(p * kvDim, kvDim));
            if (p < bs - 1)
            {
                Assert.True(residual.SlotOf(3) >= 0, $"position {p}: the block being filled has a slot");
                Assert.Equal(p + 1, residual.Filled(residual.SlotOf(3)));
                var (keys, values) = ReadBlock(store, 3, 0);   // read from the residual: f16 exactly
                for (int d = 0; d < Hd; d++)
                {
                    Assert.Equal((float)(Half)k[p * kvDim + Hd + d], keys[1][p * Hd + d]);
                    Assert.Equal((float)(Half)v[p * kvDim + Hd + d], values[1][p * Hd + d]);
                }
            }
            else if (p == bs - 1)
            {
                Assert.Equal(-1, residual.SlotOf(3));
                var (keys, _) = ReadBlock(store, 3, 0);
                int exact = 0;
                var row = new float[Hd];
                for (int q = 0; q < bs; q++)
                {
                    KiviCodec.KeyRow(KvElementTypes.KiviBits(type), Hd, store.BlockSize, store.Layer(0).View.KeySegment(3, 0), q, store.Layer(0).View.KeyBasis!, q, row);
                    for (int d = 0; d < Hd; d++)
                    {
                        float x = keys[0][q * Hd + d];
                        Assert.True(Math.Abs(row[d] - x) <= 1e-5f * (1 + Math.Abs(x)), $"position {q} element {d}: the tile read {x}, the scalar twin {row[d]}");
                        if (Math.Abs(x - (float)(Half)k[q * kvDim + d]) < 1e-3f) exact++;
                    }
                }
                Assert.True(exact < bs * Hd / 4, $"{exact} of {bs * Hd} coded keys equal their f16: not coded?");
            }
            else Assert.True(residual.SlotOf(1) >= 0 && residual.SlotOf(3) == -1, $"position {p}: the second block has the slot");
        }
        Assert.Equal(8, residual.Filled(residual.SlotOf(1)));
    }

    [Fact]
    public void A_copied_partial_block_carries_its_residual_and_each_copy_fills_on_its_own()
    {
        const int bs = 32;
        var types = new KvCacheTypes(KvElementType.Kivi2, KvElementType.Kivi4);
        var store = new PagedKvStore(2, 4, bs, KvHeads, Hd, types, residualSlots: 3);
        var rng = new Random(11);
        int kvDim = KvHeads * Hd;
        var k = Keys(rng, 64);
        var v = Gaussian(rng, 64 * kvDim, 1f);
        for (int l = 0; l < 2; l++) store.Write(l, [0, 1], 0, 40, k.AsSpan(0, 40 * kvDim), v.AsSpan(0, 40 * kvDim));
        store.CopyBlock(1, 2);
        var residual = store.Layer(1).Residual!;
        Assert.True(residual.SlotOf(2) >= 0 && residual.SlotOf(2) != residual.SlotOf(1));
        Assert.Equal(8, residual.Filled(residual.SlotOf(2)));
        var (k1, v1) = ReadBlock(store, 1, bs);
        var (k2, v2) = ReadBlock(store, 2, bs);
        Assert.Equal(k1[1][..(8 * Hd)], k2[1][..(8 * Hd)]);
        Assert.Equal(v1[0][..(8 * Hd)], v2[0][..(8 * Hd)]);

        // The copy goes on (copy-on-write): it fills and is coded; the source keeps its 8 f16 positions.
        for (int l = 0; l < 2; l++) store.Write(l, [0, 2], 40, 24, k.AsSpan(40 * kvDim, 24 * kvDim), v.AsSpan(40 * kvDim, 24 * kvDim));
        Assert.Equal(-1, residual.SlotOf(2));
        Assert.Equal(8, residual.Filled(residual.SlotOf(1)));
        var (k1After, _) = ReadBlock(store, 1, bs);
        Assert.Equal(k1[0][..(8 * Hd)], k1After[0][..(8 * Hd)]);
    }

    [Fact]
    public void With_more_partial_blocks_than_slots_the_oldest_is_coded_early_and_reopened_when_written_again()
    {
        const int bs = 32;
        var store = new PagedKvStore(1, 4, bs, KvHeads, Hd, new KvCacheTypes(KvElementType.Kivi4, KvElementType.Kivi4), residualSlots: 1);
        var residual = store.Layer(0).Residual!;
        var rng = new Random(5);
        int kvDim = KvHeads * Hd;
        var a = Keys(rng, 20);
        var av = Gaussian(rng, 20 * kvDim, 1f);
        var b = Keys(rng, 10);
        store.Write(0, [0], 0, 10, a.AsSpan(0, 10 * kvDim), av.AsSpan(0, 10 * kvDim));
        store.Write(0, [1], 0, 10, b, b);   // takes the only slot: block 0's 10 positions are coded
        Assert.Equal((-1, 0), (residual.SlotOf(0), residual.SlotOf(1)));
        store.Write(0, [0], 10, 10, a.AsSpan(10 * kvDim), av.AsSpan(10 * kvDim));   // block 0 reopened, decoded into the slot
        Assert.Equal((0, -1, 20), (residual.SlotOf(0), residual.SlotOf(1), residual.Filled(0)));

        var (keys, values) = ReadBlock(store, 0, 0);
        // Positions 0-9 went through the codes once (per channel of the stored basis over those 10 positions' range,
        // then decoded to f16); 10-19 are f16. The basis is orthonormal: a key's error is bounded in length.
        var stored = ToStored(store.Layer(0).View.KeyBasis!, a, 0, 0, 10);
        double squaredBound = 0;
        for (int d = 0; d < Hd; d++)
        {
            var channel = Enumerable.Range(0, 10).Select(p => (double)stored[p * Hd + d]).ToArray();
            squaredBound += Math.Pow(0.51 * (channel.Max() - channel.Min()) / 15 + 0.01, 2);
        }
        for (int p = 0; p < 20; p++)
        {
            double squared = 0;
            for (int d = 0; d < Hd; d++)
            {
                float x = (float)(Half)a[p * kvDim + d], y = (float)(Half)av[p * kvDim + d];
                if (p >= 10) Assert.Equal((x, y), (keys[0][p * Hd + d], values[0][p * Hd + d]));
                else
                {
                    squared += Math.Pow(keys[0][p * Hd + d] - x, 2);
                    Assert.True(Math.Abs(values[0][p * Hd + d] - y) <= 0.6, $"position {p} value {d}: {values[0][p * Hd + d]} vs {y}");
                }
            }
            Assert.True(squared <= squaredBound, $"position {p}: squared key error {squared} > {squaredBound}");
        }
    }

    [Theory]
    [InlineData(KvElementType.Kivi2, 32, 16 + 8 + 2, 16 + 4)]
    [InlineData(KvElementType.Kivi2, 64, 16 + 4 + 2, 16 + 4)]
    [InlineData(KvElementType.Kivi4, 32, 32 + 8, 32 + 4)]
    [InlineData(KvElementType.Kivi4, 128, 32 + 2, 32 + 4)]
    public void Bytes_per_position_are_the_codes_plus_the_group_scales_and_the_residual_is_counted_apart(KvElementType type, int blockSize, int keyBytes, int valueBytes)
    {
        // Per KV head of 64: keys 64·b/8 + 4·64/blockSize (+ 2: kivi2's blockSize/2 exact entries of 4 bytes per block),
        // values 64·b/8 + 4 (one group of 64); f16 would be 128 each.
        const int layers = 24, blocks = 8, slots = 3;
        var store = new PagedKvStore(layers, blocks, blockSize, KvHeads, Hd, new KvCacheTypes(type, type), slots);
        Assert.Equal((long)layers * KvHeads * (keyBytes + valueBytes), store.BytesPerPosition);
        Assert.Equal((long)layers * slots * KvHeads * blockSize * Hd * 2 * 2, store.ResidualBytes);
        Assert.Equal(store.BytesPerPosition * blocks * blockSize + store.ResidualBytes, store.Bytes);

        var keysOnly = new PagedKvStore(layers, blocks, blockSize, KvHeads, Hd, new KvCacheTypes(type, KvElementType.Q8_0), slots);
        Assert.Equal((long)layers * KvHeads * (keyBytes + 68), keysOnly.BytesPerPosition);
        Assert.Equal((long)layers * slots * KvHeads * blockSize * Hd * 2, keysOnly.ResidualBytes);   // only the KIVI side has a residual

        // Value groups are 64 channels where the head size allows, else 32: heads of 32 and 96 keep groups of 32.
        int bits = KvElementTypes.KiviBits(type);
        Assert.Equal(32 * bits / 8 + 4, KvElementTypes.HeadBytes(type, 32));
        Assert.Equal(96 * bits / 8 + 3 * 4, KvElementTypes.HeadBytes(type, 96));
        Assert.Equal(128 * bits / 8 + 2 * 4, KvElementTypes.HeadBytes(type, 128));
    }

    [Fact]
    public void Bad_kivi_shapes_are_refused_with_the_reason()
    {
        var types = new KvCacheTypes(KvElementType.Kivi2, KvElementType.F16);
        Assert.Contains("must be one of 32, 64, 128 (got 16",
            Assert.Throws<ArgumentOutOfRangeException>(() => new PagedKvStore(1, 4, 16, 1, 64, types)).Message);
        Assert.Contains("must be one of 32, 64, 128 (got 96",
            Assert.Throws<ArgumentOutOfRangeException>(() => new PagedKvStore(1, 4, 96, 1, 64, new KvCacheTypes(KvElementType.F16, KvElementType.Kivi4))).Message);
        Assert.Equal("KV cache type kivi2 quantizes values in groups of 32 channels; this model's head size is 48. Use f16.",
            Assert.Throws<NotSupportedException>(() => new PagedKvStore(1, 4, 32, 1, 48, types)).Message);
        Assert.StartsWith("KV cache type kivi2 keeps a few key entries exact, indexed within 256 channels; this model's head size is 288.",
            Assert.Throws<NotSupportedException>(() => new PagedKvStore(1, 4, 32, 1, 288, types)).Message);
        _ = new PagedKvStore(1, 4, 32, 1, 288, new KvCacheTypes(KvElementType.Kivi4, KvElementType.Kivi2));   // kivi4 keys keep none
        Assert.Equal((KvElementType.Kivi2, KvElementType.Kivi4), (KvElementTypes.Parse("kivi2"), KvElementTypes.Parse(" KIVI4 ")));
    }

    public static TheoryData<KvElementType, KvElementType, int, int, int, bool, string> Shapes() => new()
    {
        // key type, value type, head size, query heads, KV heads, keys rotated (--kv-rotate), RoPE KIVI keys undo
        { KvElementType.Kivi2, KvElementType.Kivi2, 64, 14, 2, false, "neox" },
        { KvElementType.Kivi4, KvElementType.Kivi4, 32, 4, 1, false, "normal" },
        { KvElementType.Kivi2, KvElementType.Q8_0, 128, 8, 2, false, "none" },
        { KvElementType.Kivi2, KvElementType.Kivi4, 96, 6, 2, false, "partial" },
        { KvElementType.F16, KvElementType.Kivi2, 96, 6, 2, false, "none" },
        { KvElementType.Q4_0, KvElementType.Kivi2, 64, 8, 8, true, "none" },
    };

    private static RopeSpec? Rope(string name, int hd) => name switch
    {
        "neox" => new RopeSpec(RopeStyle.NeoX, hd, 1_000_000f, 1f),
        "normal" => new RopeSpec(RopeStyle.Normal, hd, 10_000f, 0.5f, Enumerable.Range(0, hd / 2).Select(i => 1f + i % 3).ToArray()),
        "partial" => new RopeSpec(RopeStyle.Normal, hd / 2, 10_000f, 1f),
        _ => null,
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Attention_over_kivi_matches_the_scalar_oracle_token_by_token_and_in_prefill_chunks(KvElementType kt, KvElementType vt, int hd, int heads, int kvHeads, bool rotate, string rope)
    {
        const int bs = 32;
        var store = new PagedKvStore(1, 8, bs, kvHeads, hd, new KvCacheTypes(kt, vt, rotate), residualSlots: 2, keyRope: Rope(rope, hd));
        var rng = new Random(hd + heads);
        int kvDim = kvHeads * hd, length = 150;
        int[] table = [5, 2, 7, 0, 3];
        var k = Keys(rng, length, kvHeads, hd);
        var v = Gaussian(rng, length * kvDim, 1f);
        // Decodes one token at a time across the first block boundary, then prefill chunks that start mid-block and
        // cross boundaries, ending in a partial block read from the residual.
        var steps = new List<(int Start, int Count)>();
        for (int p = 0; p < 36; p++) steps.Add((p, 1));
        steps.AddRange([(36, 41), (77, 3), (80, 64), (144, 6)]);
        foreach (var (start, count) in steps)
        {
            store.Write(0, table, start, count, k.AsSpan(start * kvDim, count * kvDim), v.AsSpan(start * kvDim, count * kvDim));
            if (count == 1 && start % 7 != 0 && start != bs - 1 && start != bs) continue;   // a sample of the decodes
            var q = Gaussian(rng, count * heads * hd, 1f);
            var one = new[] { new AttentionSequence(start, count, 0, 0) };
            var expected = new float[q.Length];
            PagedAttentionReference.Run(one, store.Layer(0).View, table, q, expected, heads);
            foreach (int threads in new[] { 1, 3 })
            {
                using var team = new ComputeTeam(threads);
                var kernel = new PagedAttention(heads, kvHeads, hd);
                kernel.Plan(one, threads);
                var actual = new float[q.Length];
                fixed (int* t = table)
                fixed (float* qp = q, op = actual)
                    kernel.Run(team, store.Layer(0).View, t, qp, op);
                for (int i = 0; i < actual.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5f * (1 + Math.Abs(expected[i])),
                        $"{kt}/{vt} step ({start}, {count}), {threads} threads, element {i}: expected {expected[i]}, got {actual[i]}");
            }
        }
        Assert.True(store.Layer(0).View.ResidualSlot(3) >= 0 && store.Layer(0).View.ResidualSlot(0) == -1, "the last block is partial (f16), the one before coded");
    }

    /// <summary>The f16-rounded keys of KV head <paramref name="head"/> at <paramref name="count"/> positions from <paramref name="first"/>, moved into <paramref name="basis"/>: rows [position · Hd + d].</summary>
    private static float[] ToStored(KiviKeyBasis basis, float[] keys, int head, int first, int count)
    {
        int T = KvTile.Positions;
        var rows = new float[count * Hd];
        var tile = new float[Hd * T];
        for (int t0 = 0; t0 < count; t0 += T)
        {
            Array.Clear(tile);
            for (int j = 0; j < T && t0 + j < count; j++)
                for (int d = 0; d < Hd; d++) tile[d * T + j] = (float)(Half)keys[((first + t0 + j) * KvHeads + head) * Hd + d];
            fixed (float* kt = tile) basis.ToStored(kt, first + t0);
            for (int j = 0; j < T && t0 + j < count; j++)
                for (int d = 0; d < Hd; d++) rows[(t0 + j) * Hd + d] = tile[d * T + j];
        }
        return rows;
    }

    /// <summary>A coded block's keys per KV head as the codes hold them (in the stored basis): rows [position · headDim + d].</summary>
    private static float[][] ReadCodedKeys(PagedKvStore store, int block)
    {
        var view = store.Layer(0).View;
        int hd = view.HeadDim, bs = view.BlockSize, T = KvTile.Positions;
        var keys = new float[view.KvHeads][];
        var kt = new float[T * hd];
        for (int h = 0; h < view.KvHeads; h++)
        {
            keys[h] = new float[bs * hd];
            for (int tile = 0; tile < bs / T; tile++)
            {
                fixed (float* ktp = kt) KiviTile.LoadKeys(KvElementTypes.KiviBits(view.Types.Keys), view.KeySegment(block, h), tile, hd, view.BlockSize, ktp);
                for (int j = 0; j < T; j++)
                    for (int d = 0; d < hd; d++) keys[h][(tile * T + j) * hd + d] = kt[d * T + j];
            }
        }
        return keys;
    }

    /// <summary>
    /// Block <paramref name="block"/>'s keys and values per KV head as rows [position · headDim + d], through the
    /// kernel's tile loads; the block holds sequence positions from <paramref name="firstPosition"/>.
    /// </summary>
    private static (float[][] Keys, float[][] Values) ReadBlock(PagedKvStore store, int block, int firstPosition)
    {
        var view = store.Layer(0).View;
        int hd = view.HeadDim, bs = view.BlockSize, T = KvTile.Positions;
        var keys = new float[view.KvHeads][];
        var values = new float[view.KvHeads][];
        var kt = new float[T * hd];
        var vt = new float[T * hd];
        for (int h = 0; h < view.KvHeads; h++)
        {
            keys[h] = new float[bs * hd];
            values[h] = new float[bs * hd];
            for (int tile = 0; tile < bs / T; tile++)
            {
                fixed (float* ktp = kt, vtp = vt)
                {
                    KvTile.LoadKeys(view, block, firstPosition + tile * T, h, ktp);
                    KvTile.LoadValues(view, block, tile, h, T, vtp);
                }
                for (int j = 0; j < T; j++)
                    for (int d = 0; d < hd; d++)
                    {
                        keys[h][(tile * T + j) * hd + d] = kt[d * T + j];
                        values[h][(tile * T + j) * hd + d] = vt[j * hd + d];
                    }
            }
        }
        return (keys, values);
    }

    private static float[] Gaussian(Random rng, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return x;
    }
}
