using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;

namespace Frugal.Inference.Engine;

/// <summary>
/// One request's events as the engine produces them. Reading stops early (a break, a cancelled token) cancel the
/// sequence, so an abandoned stream never holds KV blocks.
/// </summary>
public sealed class EngineStream
{
    private readonly InferenceEngine _engine;
    private readonly ChannelReader<EngineEvent> _events;
    private readonly CancellationTokenRegistration _registration;
    private int _finished;

    internal EngineStream(InferenceEngine engine, long id, ChannelReader<EngineEvent> events, CancellationToken cancellationToken)
    {
        _engine = engine;
        Id = id;
        _events = events;
        if (cancellationToken.CanBeCanceled)
            _registration = cancellationToken.Register(static s => ((EngineStream)s!).Cancel(), this);
    }

    public long Id { get; }

    /// <summary>Ends the sequence at the engine's next step.</summary>
    public void Cancel()
    {
        if (Volatile.Read(ref _finished) == 0) _engine.Cancel(Id);
    }

    /// <summary>Tokens as they come, then the <see cref="EngineFinished"/> event.</summary>
    public async IAsyncEnumerable<EngineEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        bool done = false;
        try
        {
            await foreach (var e in _events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (e is EngineFinished) done = true;
                yield return e;
            }
        }
        finally
        {
            if (!done) Cancel();
            Interlocked.Exchange(ref _finished, 1);
            _registration.Dispose();
        }
    }

    /// <summary>Reads the whole stream into one result.</summary>
    public async Task<EngineCompletion> CompleteAsync(CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        var tokens = new List<EngineToken>();
        await foreach (var e in ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case EngineToken t:
                    tokens.Add(t);
                    text.Append(t.Text);
                    break;
                case EngineFinished f:
                    text.Append(f.Text);
                    return new EngineCompletion(text.ToString(), tokens, f);
            }
        }
        throw new OperationCanceledException("the stream ended without a finish event");
    }
}

/// <summary>A whole generation: its text, tokens and finish event.</summary>
public sealed record EngineCompletion(string Text, IReadOnlyList<EngineToken> Tokens, EngineFinished Finished);
