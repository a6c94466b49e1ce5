using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Ops;

namespace Frugal.Tests.Kernels;

/// <summary>
/// The basis KIVI codes keys in (<see cref="KiviKeyBasis"/>): RoPE undone, then a Walsh-Hadamard rotation. Its two
/// directions are inverses, the stored form is what the model's own RoPE and the rotation say, and a key that only
/// RoPE moves is coded almost exactly, which after RoPE it is not.
/// </summary>
public sealed unsafe class KiviKeyBasisTests
{
    private const int T = KvTile.Positions;

    public static TheoryData<int, string> Shapes() => new()
    {
        { 64, "neox" }, { 32, "normal" }, { 128, "factors" }, { 96, "partial" }, { 64, "none" }, { 48, "neox" }, { 8, "normal" },
    };

    private static RopeSpec? Rope(string name, int hd) => name switch
    {
        "neox" => new RopeSpec(RopeStyle.NeoX, hd, 1_000_000f, 1f),
        "normal" => new RopeSpec(RopeStyle.Normal, hd, 10_000f, 1f),
        "factors" => new RopeSpec(RopeStyle.Normal, hd, 500_000f, 0.25f, Enumerable.Range(0, hd / 2).Select(i => 1f + i % 5).ToArray()),
        "partial" => new RopeSpec(RopeStyle.NeoX, hd / 2, 10_000f, 1f),
        _ => null,
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Stored_is_the_models_rope_undone_then_rotated_and_reading_back_inverts_it(int hd, string rope)
    {
        var spec = Rope(rope, hd);
        var basis = new KiviKeyBasis(hd, 4096, spec);
        Assert.Equal(hd & -hd, basis.HadamardWidth);
        var rng = new Random(hd);
        foreach (int first in new[] { 0, 16, 1024, 4080 })
        {
            var tile = new float[hd * T];
            for (int i = 0; i < tile.Length; i++) tile[i] = (float)(rng.NextDouble() * 4 - 2);
            var stored = (float[])tile.Clone();
            fixed (float* kt = stored) basis.ToStored(kt, first);
            for (int j = 0; j < T; j++)
            {
                // The expectation from the model's own parts: Rope.Apply with negated angles, then the normalized transform per run.
                var key = Enumerable.Range(0, hd).Select(d => tile[d * T + j]).ToArray();
                if (spec is { } r)
                {
                    var cos = new float[r.Dims / 2];
                    var sin = new float[r.Dims / 2];
                    Frugal.Numerics.Ops.Rope.Angles(first + j, r.Dims, r.FreqBase, r.FreqScale, r.FreqFactors, cos, sin);
                    Frugal.Numerics.Ops.Rope.Apply(key, cos, sin.Select(x => -x).ToArray(), r.Style);
                }
                for (int o = 0; o < hd; o += basis.HadamardWidth) WalshHadamard.Transform(key.AsSpan(o, basis.HadamardWidth));
                for (int d = 0; d < hd; d++)
                    Assert.True(Math.Abs(stored[d * T + j] - key[d]) <= 2e-3f, $"{rope} position {first + j} element {d}: stored {stored[d * T + j]}, expected {key[d]}");
            }
            var back = (float[])stored.Clone();
            fixed (float* kt = back) basis.ToModel(kt, first);
            for (int i = 0; i < tile.Length; i++)
                Assert.True(Math.Abs(back[i] - tile[i]) <= 2e-6f * (1 + Math.Abs(tile[i])), $"{rope} tile at {first} element {i}: {back[i]} back, {tile[i]} written");
            // The scalar twin agrees with the tile form.
            var row = new float[hd];
            for (int j = 0; j < T; j += 5)
            {
                for (int d = 0; d < hd; d++) row[d] = stored[d * T + j];
                basis.ToModelRow(row, first + j);
                for (int d = 0; d < hd; d++) Assert.True(Math.Abs(row[d] - tile[d * T + j]) <= 1e-5f * (1 + Math.Abs(row[d])), $"{rope} row {first + j} element {d}");
            }
        }
        Assert.Contains("covers positions [0, 4096)", Assert.Throws<ArgumentOutOfRangeException>(() => { fixed (float* kt = new float[hd * T]) basis.ToModel(kt, 4096); }).Message);
    }

    [Fact]
    public void A_key_only_rope_moves_is_coded_almost_exactly_where_coding_it_after_rope_is_not()
    {
        // One pre-RoPE key repeated over a block: after RoPE every channel of a fast pair sweeps its circle, so 2-bit
        // codes per channel over the block err by a fraction of the key's size; before RoPE each channel is constant.
        const int hd = 64, bs = 32, kvHeads = 1;
        var rope = new RopeSpec(RopeStyle.NeoX, hd, 10_000f, 1f);
        var rng = new Random(3);
        var pre = Enumerable.Range(0, hd).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var keys = new float[bs * hd];
        var cos = new float[hd / 2];
        var sin = new float[hd / 2];
        for (int p = 0; p < bs; p++)
        {
            var k = keys.AsSpan(p * hd, hd);
            pre.CopyTo(k);
            Frugal.Numerics.Ops.Rope.Angles(p, hd, rope.FreqBase, rope.FreqScale, default, cos, sin);
            Frugal.Numerics.Ops.Rope.Apply(k, cos, sin, rope.Style);
        }
        double Worst(RopeSpec? keyRope)
        {
            var types = new KvCacheTypes(KvElementType.Kivi2, KvElementType.F16);
            var store = new PagedKvStore(1, 2, bs, kvHeads, hd, types, keyRope: keyRope);
            store.Write(0, [1], 0, bs, keys, new float[bs * hd]);
            Assert.Equal(-1, store.Layer(0).View.ResidualSlot(1));   // coded
            var got = new float[hd];
            double worst = 0;
            for (int p = 0; p < bs; p++)
            {
                store.ReadKey(0, [1], p, 0, got);
                for (int d = 0; d < hd; d++) worst = Math.Max(worst, Math.Abs(got[d] - keys[p * hd + d]));
            }
            return worst;
        }
        double inBasis = Worst(rope), afterRope = Worst(null);
        Assert.True(inBasis < 2e-3, $"before RoPE the block's channels are constant: worst error {inBasis}");
        Assert.True(afterRope > 0.05, $"after RoPE (rotation only) 2-bit codes must err visibly: worst error {afterRope}");
    }

    [Fact]
    public void Kivi_keys_refuse_the_separate_key_rotation()
    {
        var types = new KvCacheTypes(KvElementType.Kivi2, KvElementType.F16, RotateKeys: true);
        Assert.Contains("--kv-rotate applies to f16, q8_0 and q4_0 keys",
            Assert.Throws<NotSupportedException>(() => new PagedKvStore(1, 4, 32, 1, 64, types)).Message);
    }
}
