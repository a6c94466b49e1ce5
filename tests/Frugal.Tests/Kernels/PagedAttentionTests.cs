using Frugal.Models;
using Frugal.Numerics;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>The paged attention kernel against its scalar twin, through shuffled block tables, every KV type and width.</summary>
public sealed class PagedAttentionTests
{
    public static TheoryData<KvElementType, KvElementType, int, int, int, bool> Shapes() => new()
    {
        // key type, value type, head size, query heads, KV heads, keys rotated
        { KvElementType.F16, KvElementType.F16, 64, 14, 2, false },   // Qwen2.5-0.5B's grouping
        { KvElementType.F16, KvElementType.F16, 128, 8, 8, false },   // no grouping
        { KvElementType.F16, KvElementType.F16, 6, 4, 2, false },     // a head no vector width divides
        { KvElementType.F16, KvElementType.F16, 24, 3, 1, false },
        { KvElementType.Q8_0, KvElementType.Q8_0, 64, 8, 2, false },
        { KvElementType.Q4_0, KvElementType.Q4_0, 32, 4, 1, false },
        { KvElementType.Q8_0, KvElementType.F16, 96, 6, 2, false },
        { KvElementType.F16, KvElementType.Q4_0, 64, 4, 4, false },
        { KvElementType.Q4_0, KvElementType.F16, 32, 4, 1, true },
        { KvElementType.Q8_0, KvElementType.Q4_0, 128, 14, 2, true },
        { KvElementType.F16, KvElementType.F16, 8, 4, 2, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public unsafe void Matches_the_scalar_twin_for_prefill_chunks_and_long_decodes(KvElementType kt, KvElementType vt, int hd, int heads, int kvHeads, bool rotate)
    {
        const int blockSize = 32, blocks = 40;
        var types = new KvCacheTypes(kt, vt, rotate);
        var store = new PagedKvStore(1, blocks, blockSize, kvHeads, hd, types);
        var rng = new Random(hd * 31 + heads);
        // A prefill chunk from 0, a chunk continuing at 33 (mid-block, mid-tile), a decode deep in the cache, a decode at 0.
        var seqs = new[] { (Start: 0, Count: 40), (Start: 33, Count: 20), (Start: 700, Count: 1), (Start: 0, Count: 1) };
        var shuffled = Enumerable.Range(0, blocks).OrderBy(_ => rng.Next()).ToArray();
        var tables = new List<int>();
        var attention = new List<AttentionSequence>();
        int row = 0, used = 0;
        foreach (var (start, count) in seqs)
        {
            int need = (start + count + blockSize - 1) / blockSize;
            var table = shuffled.Skip(used % (blocks - need)).Take(need).ToArray();
            used += 7;
            var keys = Gaussian(rng, (start + count) * kvHeads * hd, 1.5f);
            var values = Gaussian(rng, (start + count) * kvHeads * hd, 1.0f);
            store.Write(0, table, 0, start + count, keys, values);
            attention.Add(new AttentionSequence(start, count, row, tables.Count));
            tables.AddRange(table);
            row += count;
        }
        // Sequences share blocks here (tables overlap): each is written in turn, so check them one at a time.
        for (int si = 0; si < seqs.Length; si++)
        {
            var (start, count) = seqs[si];
            var one = new[] { attention[si] with { Row = 0, TableOffset = 0 } };
            int need = (start + count + blockSize - 1) / blockSize;
            var table = tables.Skip(attention[si].TableOffset).Take(need).ToArray();
            store.Write(0, table, 0, start + count, Gaussian(rng, (start + count) * kvHeads * hd, 1.5f), Gaussian(rng, (start + count) * kvHeads * hd, 1.0f));
            var q = Gaussian(rng, count * heads * hd, 1.0f);
            var expected = new float[count * heads * hd];
            PagedAttentionReference.Run(one, store.Layer(0).View, table, q, expected, heads);
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var team = new ComputeTeam(threads);
                var kernel = new PagedAttention(heads, kvHeads, hd);
                kernel.Plan(one, threads);
                var actual = new float[count * heads * hd];
                fixed (int* t = table)
                fixed (float* qp = q, op = actual)
                    kernel.Run(team, store.Layer(0).View, t, qp, op);
                for (int i = 0; i < actual.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5f * (1 + Math.Abs(expected[i])),
                        $"seq {si} (start {start}, count {count}), {threads} threads, element {i}: expected {expected[i]}, got {actual[i]}");
            }
        }
    }

    [Fact]
    public unsafe void A_batch_of_sequences_in_one_run_equals_each_run_alone()
    {
        const int hd = 64, heads = 8, kvHeads = 2, blockSize = 16;
        var store = new PagedKvStore(1, 64, blockSize, kvHeads, hd);
        var rng = new Random(3);
        var seqs = new[] { new AttentionSequence(0, 30, 0, 0), new AttentionSequence(100, 1, 30, 2), new AttentionSequence(47, 5, 31, 9) };
        int[] tables = [.. Enumerable.Range(0, 2), .. Enumerable.Range(10, 7), .. Enumerable.Range(30, 4)];
        foreach (var s in seqs)
        {
            var table = tables.Skip(s.TableOffset).Take((s.Start + s.Count + blockSize - 1) / blockSize).ToArray();
            store.Write(0, table, 0, s.Start + s.Count, Gaussian(rng, (s.Start + s.Count) * kvHeads * hd, 1f), Gaussian(rng, (s.Start + s.Count) * kvHeads * hd, 1f));
        }
        var q = Gaussian(rng, 36 * heads * hd, 1f);
        using var team = new ComputeTeam(2);
        var together = new float[q.Length];
        var kernel = new PagedAttention(heads, kvHeads, hd);
        kernel.Plan(seqs, 2);
        fixed (int* t = tables)
        fixed (float* qp = q, op = together)
            kernel.Run(team, store.Layer(0).View, t, qp, op);
        var expected = new float[q.Length];
        PagedAttentionReference.Run(seqs, store.Layer(0).View, tables, q, expected, heads);
        for (int i = 0; i < q.Length; i++)
            Assert.True(Math.Abs(expected[i] - together[i]) < 2e-5f * (1 + Math.Abs(expected[i])), $"element {i}: {expected[i]} vs {together[i]}");
    }

    [Theory]
    [InlineData(KvElementType.F16, 2.0)]
    [InlineData(KvElementType.Q8_0, 34.0 / 32)]
    [InlineData(KvElementType.Q4_0, 18.0 / 32)]
    public void Bytes_per_position_are_llama_cpp_s(KvElementType type, double bytesPerElement)
    {
        var store = new PagedKvStore(24, 8, 16, 2, 64, new KvCacheTypes(type, type));
        Assert.Equal((long)(24 * 2 * 128 * bytesPerElement), store.BytesPerPosition);
        Assert.Equal(store.BytesPerPosition * 8 * 16, store.Bytes);
    }

    [Theory]
    [InlineData(KvElementType.F16)]
    [InlineData(KvElementType.F32)]
    [InlineData(KvElementType.Q8_0)]
    [InlineData(KvElementType.Q4_0)]
    public unsafe void Stored_rows_read_back_as_ggml_encodes_them(KvElementType type)
    {
        const int hd = 64;
        var store = new PagedKvStore(1, 2, 32, 2, hd, new KvCacheTypes(type, type));
        var rng = new Random(1);
        var k = Gaussian(rng, 3 * 2 * hd, 2f);   // positions 20, 21, 22 of block 1, two heads
        var v = Gaussian(rng, 3 * 2 * hd, 2f);
        store.Write(0, [0, 1], 52, 3, k, v);
        var kt = new float[16 * hd];
        var vt = new float[16 * hd];
        var ggml = type switch { KvElementType.F16 => GgmlType.F16, KvElementType.F32 => GgmlType.F32, KvElementType.Q8_0 => GgmlType.Q8_0, _ => GgmlType.Q4_0 };
        for (int h = 0; h < 2; h++)
        {
            fixed (float* ktp = kt, vtp = vt)
            {
                KvTile.LoadKeys(store.Layer(0).View, 1, 48, h, ktp);   // positions 48-63: tile 1 of block 1
                KvTile.LoadValues(store.Layer(0).View, 1, 1, h, 16, vtp);
            }
            for (int i = 0; i < 3; i++)
            {
                var expectedK = RoundTrip(ggml, k.AsSpan((i * 2 + h) * hd, hd));
                var expectedV = RoundTrip(ggml, v.AsSpan((i * 2 + h) * hd, hd));
                int slot = 4 + i;   // position 52 + i is slot 20 + i of block 1: tile 1, slot 4 + i
                for (int d = 0; d < hd; d++)
                {
                    Assert.Equal(expectedK[d], kt[d * 16 + slot]);
                    Assert.Equal(expectedV[d], vt[slot * hd + d]);
                }
            }
        }
    }

    private static float[] RoundTrip(GgmlType type, ReadOnlySpan<float> x)
    {
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
        Quantize.Row(type, x, bytes);
        var back = new float[x.Length];
        Dequantize.Row(type, bytes, back);
        return back;
    }

    [Fact]
    public void Bad_shapes_are_refused_with_the_reason()
    {
        Assert.Contains("multiple of 16", Assert.Throws<ArgumentOutOfRangeException>(() => new PagedKvStore(1, 4, 8, 1, 64)).Message);
        Assert.Contains("q4_0", Assert.Throws<NotSupportedException>(() => new PagedKvStore(1, 4, 16, 1, 48, new KvCacheTypes(KvElementType.Q4_0, KvElementType.F16))).Message);
        Assert.Contains("expected one of f16, f32, q8_0, q4_0", Assert.Throws<ArgumentException>(() => KvElementTypes.Parse("q5_1")).Message);
    }

    private static float[] Gaussian(Random rng, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return x;
    }
}
