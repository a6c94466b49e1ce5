using System.Text;

namespace Frugal.Inference.Tools;

/// <summary>
/// Streams one choice's text while watching for the model's tool-call syntax: text before a possible call is
/// released as it comes; from the first marker (or its unfinished beginning) on, text is held and read as calls when
/// the output ends. Held text that turns out to be no call is released then.
/// </summary>
public sealed class ToolCallStream
{
    private readonly ToolCalling _tools;
    private readonly StringBuilder _text = new();
    private int _released;

    internal ToolCallStream(ToolCalling tools) => _tools = tools;

    /// <summary>Adds generated text; returns the part that is surely content.</summary>
    public string Push(string piece)
    {
        _text.Append(piece);
        string all = _text.ToString();
        int start = _tools.Format.CallStart(all);
        int upTo = start < 0 ? all.Length : Math.Max(start, _released);
        string release = all[_released..upTo];
        _released = upTo;
        return release;
    }

    /// <summary>The calls in the held text so far, the last one possibly unfinished: what a stream can send of them
    /// before the output ends (names, and arguments as they grow).</summary>
    public IReadOnlyList<ToolCallProgress> Progress()
    {
        var calls = ToolCallProgressReader.Read(_text.ToString(), _released);
        return _tools.Parallel || calls.Count <= 1 ? calls : calls[..1];
    }

    /// <summary>Ends the output: the calls it holds, and the held text that is content after all.</summary>
    public (string Tail, IReadOnlyList<ToolCall> Calls) Finish()
    {
        string all = _text.ToString();
        var parsed = _tools.Parse(all);
        if (parsed.Calls.Count > 0) return ("", parsed.Calls);
        string tail = all[_released..];
        _released = all.Length;
        return (tail, []);
    }
}
