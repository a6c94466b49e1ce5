using Frugal.Numerics;

namespace Frugal.Tests.Planning;

public class ByteSizeTests
{
    [Theory]
    [InlineData("4G", 4L << 30)]
    [InlineData("4GiB", 4L << 30)]
    [InlineData("4gb", 4L << 30)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("512M", 512L << 20)]
    [InlineData("64K", 64L << 10)]
    [InlineData("1T", 1L << 40)]
    [InlineData("123456", 123456L)]
    [InlineData(" 300 MB ", 300L << 20)]
    public void Parses_binary_sizes(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text));

    [Theory]
    [InlineData("", "empty size")]
    [InlineData("4X", "unknown unit 'X'")]
    [InlineData("-1G", "not a positive size")]
    [InlineData("0", "not a positive size")]
    [InlineData("G", "not a positive size")]
    [InlineData("1e30T", "not a positive size")]
    public void Refuses_bad_sizes_naming_the_problem(string text, string message)
    {
        Assert.Null(ByteSize.TryParse(text, out var error));
        Assert.Contains(message, error);
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => ByteSize.Parse(text)).Message);
    }

    [Theory]
    [InlineData(100L, "100 B")]
    [InlineData(12L * 1024, "12.0 KiB")]
    [InlineData(512L << 20, "512.00 MiB")]
    [InlineData(3L << 29, "1.50 GiB")]
    public void Formats_for_people(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes));
}
