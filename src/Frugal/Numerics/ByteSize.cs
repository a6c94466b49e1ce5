using System.Globalization;

namespace Frugal.Numerics;

/// <summary>
/// Sizes as people type them on a command line: <c>4G</c>, <c>4GiB</c>, <c>1.5G</c>, <c>512M</c>, <c>300MB</c>,
/// <c>64K</c>, or a plain byte count. Units are binary (K = 1024, as llama.cpp's and Docker's memory flags read them);
/// <c>GB</c>/<c>MB</c>/<c>KB</c> are taken as binary too, so the same letters never mean two sizes.
/// </summary>
public static class ByteSize
{
    /// <summary>Parses <paramref name="text"/>; null with an <paramref name="error"/> that names the problem.</summary>
    public static long? TryParse(string? text, out string? error)
    {
        error = null;
        var s = (text ?? "").Trim();
        if (s.Length == 0)
        {
            error = "empty size: expected a number with an optional unit (K, M, G, T), e.g. 4G or 512M";
            return null;
        }
        int end = s.Length;
        while (end > 0 && char.IsLetter(s[end - 1])) end--;
        string number = s[..end].Trim(), unit = s[end..].ToUpperInvariant();
        int shift = unit switch
        {
            "" or "B" => 0,
            "K" or "KB" or "KIB" => 10,
            "M" or "MB" or "MIB" => 20,
            "G" or "GB" or "GIB" => 30,
            "T" or "TB" or "TIB" => 40,
            _ => -1,
        };
        if (shift < 0)
        {
            error = $"'{text}': unknown unit '{s[end..]}' (use K, M, G or T, binary: 1G = 1024M)";
            return null;
        }
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value)
            || double.IsNaN(value) || value <= 0)
        {
            error = $"'{text}' is not a positive size (e.g. 4G, 1.5G, 512M)";
            return null;
        }
        double bytes = value * (1L << shift);
        if (bytes >= long.MaxValue)
        {
            error = $"'{text}' is too large";
            return null;
        }
        return (long)bytes;
    }

    /// <summary>Parses or throws an <see cref="ArgumentException"/> naming the problem.</summary>
    public static long Parse(string text) =>
        TryParse(text, out var error) ?? throw new ArgumentException(error);

    /// <summary>A size for people: <c>1.50 GiB</c>, <c>512.00 MiB</c>, <c>12.0 KiB</c>, <c>100 B</c>.</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F2} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
