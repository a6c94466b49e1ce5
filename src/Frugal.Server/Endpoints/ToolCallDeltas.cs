using Frugal.Inference.Tools;
using Frugal.Server.Protocol;

namespace Frugal.Server.Endpoints;

/// <summary>
/// One streamed choice's tool calls as OpenAI streams them: a first delta per call with its index, id, type and name,
/// then its arguments in pieces; when the output ends, the finished parse completes them (the rest of each call's
/// arguments, and calls the pieces did not show). The first call is announced as soon as its name is written and its
/// arguments follow as the model writes them; a later call is sent once it is whole, because a reply cut off by
/// max_tokens in the middle of a later call keeps only its whole calls (as the non-streamed reply does), and an
/// announced call cannot be taken back. (A reply cut off inside its first call streams that call's beginning and
/// ends with finish_reason "length", as OpenAI's does.)
/// </summary>
internal sealed class ToolCallDeltas(ToolCallStream stream, ToolCallFormat format)
{
    private readonly List<(string Id, string Name, int Sent)> _calls = [];

    /// <summary>Whether any call has been announced.</summary>
    public bool Started => _calls.Count > 0;

    /// <summary>The deltas the held text allows now.</summary>
    public List<ToolCallDelta> Next()
    {
        var deltas = new List<ToolCallDelta>();
        var progress = stream.Progress();
        for (int k = 0; k < progress.Count; k++)
        {
            if (k > 0 && !progress[k].Complete) break;
            if (k == _calls.Count)
            {
                _calls.Add((format.NewCallId(), progress[k].Name, 0));
                deltas.Add(new ToolCallDelta(k, _calls[k].Id, "function", new FunctionCallDelta(progress[k].Name, "")));
            }
            Grow(k, progress[k].Arguments, deltas);
        }
        return deltas;
    }

    /// <summary>The deltas that complete the calls once the output's parse is known.</summary>
    public List<ToolCallDelta> Finish(IReadOnlyList<ToolCall> parsed)
    {
        var deltas = new List<ToolCallDelta>();
        for (int k = 0; k < parsed.Count; k++)
        {
            if (k == _calls.Count)
            {
                _calls.Add((parsed[k].Id, parsed[k].Name, 0));
                deltas.Add(new ToolCallDelta(k, parsed[k].Id, "function", new FunctionCallDelta(parsed[k].Name, "")));
            }
            Grow(k, parsed[k].Arguments, deltas);
        }
        return deltas;
    }

    /// <summary>Sends what the arguments add to what was sent; text that does not extend it (arguments that turned
    /// out to be written as a string) cannot be taken back, so nothing more is sent for that call.</summary>
    private void Grow(int k, string arguments, List<ToolCallDelta> deltas)
    {
        var (id, name, sent) = _calls[k];
        if (arguments.Length <= sent) return;
        deltas.Add(new ToolCallDelta(k, null, null, new FunctionCallDelta(null, arguments[sent..])));
        _calls[k] = (id, name, arguments.Length);
    }
}
