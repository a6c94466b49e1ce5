using Frugal.Numerics.Threading;

namespace Frugal.Tests.Kernels;

/// <summary>
/// The read sweep behind the bandwidth probe: every 64-bit word is read exactly once whatever the team width and
/// size (word i holds i, so the sum is n(n-1)/2 and a skipped or doubled slice changes it). In this namespace so CI
/// runs it also with AVX-512 and AVX2 off (the Vector256 and Vector128 loops).
/// </summary>
public sealed class MemoryReadSweepTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Sweep_reads_every_word_exactly_once_on_any_team_width(int threads)
    {
        using var team = new ComputeTeam(threads);
        foreach (long lines in new long[] { 1, 2, 31, 33, 6 * 512 + 7 })
        {
            using var sweep = new MemoryReadSweep(lines * MemoryReadSweep.LineBytes, team);
            ulong words = (ulong)lines * 8;
            ulong expected = words * (words - 1) / 2;
            Assert.Equal(expected, sweep.Read());
            Assert.Equal(expected, sweep.Read()); // reading leaves the buffer as it was
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-64)]
    [InlineData(63)]
    [InlineData(65)]
    public void Sweep_rejects_a_size_that_is_not_whole_cache_lines(long bytes)
    {
        using var team = new ComputeTeam(1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryReadSweep(bytes, team));
        Assert.Contains("positive multiple of 64 bytes", e.Message);
    }

    [Fact]
    public void Sweep_cannot_be_read_after_it_is_disposed()
    {
        using var team = new ComputeTeam(2);
        var sweep = new MemoryReadSweep(4096, team);
        Assert.Equal(4096, sweep.Bytes);
        sweep.Dispose();
        sweep.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => sweep.Read());
    }
}
