using System.Text;

namespace Frugal.Inference.Generation;

/// <summary>
/// Streams text while watching for stop strings that may span token boundaries. Text is held back only while its
/// tail could still grow into a stop string; once a stop string is complete, the text before it is released and
/// the stop string is dropped.
/// </summary>
public sealed class StopStringFilter
{
    private readonly IReadOnlyList<string> _stops;
    private readonly StringBuilder _held = new();

    public StopStringFilter(IReadOnlyList<string> stopStrings)
    {
        ArgumentNullException.ThrowIfNull(stopStrings);
        if (stopStrings.Any(string.IsNullOrEmpty))
            throw new ArgumentException("stop strings must not be empty", nameof(stopStrings));
        _stops = stopStrings;
    }

    /// <summary>True once a stop string has been seen; further text is ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Text currently held back as a possible stop-string prefix.</summary>
    public string Held => _held.ToString();

    /// <summary>Adds decoded text and returns the part that can be released now.</summary>
    public string Push(string text)
    {
        if (Stopped) return "";
        _held.Append(text);
        if (_stops.Count == 0)
            return TakeAll();
        string held = _held.ToString();
        int stopAt = -1;
        foreach (var stop in _stops)
        {
            int i = held.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (stopAt < 0 || i < stopAt)) stopAt = i;
        }
        if (stopAt >= 0)
        {
            Stopped = true;
            _held.Clear();
            return held[..stopAt];
        }
        int keep = LongestStopPrefixSuffix(held);
        _held.Clear().Append(held, held.Length - keep, keep);
        return held[..^keep];
    }

    /// <summary>At the end of generation: releases whatever was held (it never became a stop string).</summary>
    public string Flush() => Stopped ? "" : TakeAll();

    private string TakeAll()
    {
        string s = _held.ToString();
        _held.Clear();
        return s;
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of a stop string.</summary>
    private int LongestStopPrefixSuffix(string text)
    {
        int best = 0;
        foreach (var stop in _stops)
        {
            for (int len = Math.Min(stop.Length - 1, text.Length); len > best; len--)
            {
                if (text.AsSpan(text.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
