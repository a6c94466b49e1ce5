using Frugal.Gguf;

namespace Frugal.Models;

/// <summary>
/// Which layers attend to a sliding window, read as llama.cpp's load_swa_pattern reads it: the per-layer bool array
/// {arch}.attention.sliding_window_pattern when the file has one, otherwise a period (that key as an integer, or the
/// family's default) by set_swa_pattern: layer l is windowed when l % period &lt; period − 1, so the last layer of
/// each period is global (period 2: even layers local; 6: five local, one global; 0: all local; 1: none).
/// </summary>
internal static class SlidingWindowLayers
{
    /// <summary>The per-layer windows (<see cref="ModelConfig.SlidingWindows"/>): <paramref name="window"/> for windowed layers, 0 for global ones.</summary>
    public static int[] Read(GgufFile file, string arch, int blockCount, int window, int defaultPeriod)
    {
        string key = $"{arch}.attention.sliding_window_pattern";
        if (window <= 0) throw new ModelFormatException(file.Path, $"{arch}.attention.sliding_window", $"{window} must be positive");
        var layers = new int[blockCount];
        var value = file.Find(key);
        if (value is { IsArray: true })
        {
            long[] flags;
            try
            {
                flags = value.AsInt64Array();
            }
            catch (InvalidCastException e)
            {
                throw new ModelFormatException(file.Path, key, $"expected one boolean per layer, got {e.Message}");
            }
            if (flags.Length != blockCount)
                throw new ModelFormatException(file.Path, key, $"holds {flags.Length} flags for {blockCount} layers");
            for (int l = 0; l < blockCount; l++) layers[l] = flags[l] != 0 ? window : 0;
            return layers;
        }
        long period = defaultPeriod;
        if (value is not null)
        {
            try
            {
                period = value.AsInt64();
            }
            catch (InvalidCastException e)
            {
                throw new ModelFormatException(file.Path, key, $"expected a period or one boolean per layer, got {e.Message}");
            }
            if (period < 0) throw new ModelFormatException(file.Path, key, $"period {period} is negative");
        }
        for (int l = 0; l < blockCount; l++)
            layers[l] = period == 0 || l % period < period - 1 ? window : 0;
        return layers;
    }

    /// <summary>A positive integer key, or null when absent.</summary>
    public static int? PositiveInt(GgufFile file, string key)
    {
        var value = file.Find(key);
        if (value is null) return null;
        long v;
        try
        {
            v = value.AsInt64();
        }
        catch (InvalidCastException e)
        {
            throw new ModelFormatException(file.Path, key, $"expected an integer, got {e.Message}");
        }
        if (v < 0 || v > int.MaxValue) throw new ModelFormatException(file.Path, key, $"{v} is out of range (expected a 32-bit integer, at least 0)");
        return (int)v;
    }

    /// <summary>A finite float key, or null when absent.</summary>
    public static float? Float(GgufFile file, string key)
    {
        var value = file.Find(key);
        if (value is null) return null;
        double v;
        try
        {
            v = value.AsDouble();
        }
        catch (InvalidCastException e)
        {
            throw new ModelFormatException(file.Path, key, $"expected a number, got {e.Message}");
        }
        if (!double.IsFinite(v) || v < 0) throw new ModelFormatException(file.Path, key, $"{v} must be finite and not negative");
        return (float)v;
    }
}
