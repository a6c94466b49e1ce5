using Frugal.Gguf;
using Frugal.Inference.Sampling;
using Xunit.Abstractions;

namespace Frugal.Tests.Gguf;

/// <summary>
/// Property: for any byte string, GgufFile.FromBytes either succeeds or throws GgufFormatException, and never
/// allocates more than <see cref="AllowedBytes"/>. Inputs are random mutations of valid files (fixed seed).
/// </summary>
public class GgufMutationFuzzTests(ITestOutputHelper output)
{
    /// <summary>
    /// Allocation bound for parsing a file of <paramref name="length"/> bytes: 16 x length + 64 KiB. Parsing
    /// materializes every entry as .NET objects, so a 13-byte metadata entry becomes a key string, a boxed value, a
    /// GgufValue and a dictionary slot (about 10 x its size; see the worst-case test below), and a thrown exception
    /// costs a few KiB of message and stack trace. What the bound rules out is allocation driven by a count or length
    /// the file declares but does not back (a 2^60 array length), which would exceed it by orders of magnitude.
    /// </summary>
    internal static long AllowedBytes(long length) => 16 * length + 64 * 1024;

    private static readonly ulong[] Interesting =
    [
        0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 31, 32, 33, 63, 64, 255, 256, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        1UL << 32, 1UL << 60, long.MaxValue, ulong.MaxValue, ulong.MaxValue - 31,
    ];

    private static byte[] Mutate(byte[] source, SamplerRandom rng)
    {
        var b = new List<byte>(source);
        int edits = 1 + (int)(rng.NextUInt64() % 4);
        for (int e = 0; e < edits && b.Count > 0; e++)
        {
            int at = (int)(rng.NextUInt64() % (ulong)b.Count);
            switch (rng.NextUInt64() % 6)
            {
                case 0: // flip bits of one byte
                    b[at] ^= (byte)(1 + rng.NextUInt64() % 255);
                    break;
                case 1: // overwrite a 4- or 8-byte field with an interesting value (counts, lengths, types, offsets)
                {
                    ulong v = Interesting[rng.NextUInt64() % (ulong)Interesting.Length];
                    int width = rng.NextUInt64() % 2 == 0 ? 4 : 8;
                    for (int i = 0; i < width && at + i < b.Count; i++) b[at + i] = (byte)(v >> (8 * i));
                    break;
                }
                case 2: // insert random bytes
                {
                    int n = 1 + (int)(rng.NextUInt64() % 16);
                    for (int i = 0; i < n; i++) b.Insert(at, (byte)rng.NextUInt64());
                    break;
                }
                case 3: // delete a range
                    b.RemoveRange(at, Math.Min(b.Count - at, 1 + (int)(rng.NextUInt64() % 16)));
                    break;
                case 4: // truncate
                    b.RemoveRange(at, b.Count - at);
                    break;
                default: // random byte
                    b[at] = (byte)rng.NextUInt64();
                    break;
            }
        }
        return [.. b];
    }

    /// <summary>Parses and returns the bytes allocated; fails the test on any exception but GgufFormatException.</summary>
    internal static long ParseAndMeasure(byte[] bytes, string what)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            using var f = GgufFile.FromBytes(bytes);
            _ = f.Tensors.Count;
        }
        catch (GgufFormatException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of GgufFormatException: {e.Message}\n{Convert.ToHexString(bytes)}");
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Twenty_thousand_mutants_parse_or_fail_with_GgufFormatException_within_the_allocation_bound()
    {
        byte[][] seeds = [GgufMalformedFileTests.SmallValidFile(), GgufMalformedFileTests.SmallValidFile(alignment: 64)];
        var rng = new SamplerRandom(20261126);
        int parsed = 0, rejected = 0;
        double worstRatio = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var mutant = Mutate(seeds[i % seeds.Length], rng);
            long allocated = ParseAndMeasure(mutant, $"mutant #{i}");
            Assert.True(allocated <= AllowedBytes(mutant.Length),
                $"mutant #{i} ({mutant.Length} bytes) allocated {allocated} bytes, over the bound {AllowedBytes(mutant.Length)}\n{Convert.ToHexString(mutant)}");
            worstRatio = Math.Max(worstRatio, (double)allocated / AllowedBytes(mutant.Length));
            try { GgufFile.FromBytes(mutant).Dispose(); parsed++; } catch (GgufFormatException) { rejected++; }
        }
        output.WriteLine($"parsed {parsed}, rejected {rejected}, worst allocation {worstRatio:P0} of the bound");
        // Both outcomes must occur, or the mutator is not exercising the reader.
        Assert.InRange(parsed, 100, 19_900);
        Assert.InRange(rejected, 100, 19_900);
    }

    [Fact]
    public void Files_made_of_the_smallest_entries_stay_within_the_allocation_bound()
    {
        var manyKeys = RawGguf.Header(0, 5000);
        for (int i = 0; i < 5000; i++) manyKeys.Key("k" + i, 0).U8(1);
        var nested = RawGguf.Header(0, 1).Key("n", 9).U32(9).U64(10_000);
        for (int i = 0; i < 10_000; i++) nested.U32(0).U64(0);
        var strings = RawGguf.Header(0, 1).Key("s", 9).U32(8).U64(10_000);
        for (int i = 0; i < 10_000; i++) strings.U64(0);
        var tensors = RawGguf.Header(3000, 0);
        for (int i = 0; i < 3000; i++) tensors.Tensor("t" + i, [0], 0, 0);
        tensors.PadTo(32);
        foreach (var (name, file) in new[] { ("keys", manyKeys), ("nested arrays", nested), ("strings", strings), ("tensors", tensors) })
        {
            var bytes = file.ToArray();
            using (GgufFile.FromBytes(bytes)) { } // valid: the worst case is a success, not an error path
            ParseAndMeasure(bytes, name); // warm up
            long allocated = ParseAndMeasure(bytes, name);
            output.WriteLine($"{name}: {bytes.Length} bytes, allocated {allocated} ({(double)allocated / bytes.Length:F1} x)");
            Assert.True(allocated <= AllowedBytes(bytes.Length), $"{name}: {bytes.Length} bytes allocated {allocated}");
        }
    }
}
