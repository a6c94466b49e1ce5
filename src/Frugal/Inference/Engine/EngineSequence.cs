using System.Diagnostics;
using System.Numerics.Tensors;
using System.Threading.Channels;
using Frugal.Inference.Generation;
using Frugal.Inference.Retention;
using Frugal.Inference.Sampling;
using Frugal.Inference.Speculation;
using Frugal.Tokenization;

namespace Frugal.Inference.Engine;

/// <summary>
/// The engine loop's state for one request: its own sampler, streaming detokenizer and stop-string filter, and the
/// channel its events go out through. Touched only by the loop thread (the channel is the hand-over).
/// </summary>
internal sealed class EngineSequence
{
    private readonly Tokenizer _tokenizer;
    private readonly TokenOutput _output;
    private long _lastTokenAt;

    public EngineSequence(long id, EngineRequest request, int maxTokens, KvRetention retention, Tokenizer tokenizer, int vocab, int context,
        SpeculationOptions? speculation = null)
    {
        if (speculation is { Enabled: true } && request.Grammar is null)
            Speculator = new SequenceSpeculator(speculation, request.Sampling, vocab, context);
        Id = id;
        Request = request;
        MaxTokens = maxTokens;
        Retention = retention;
        _tokenizer = tokenizer;
        _output = new TokenOutput(tokenizer, request.Sampling, vocab, context, request.PromptTokens, request.StopStrings, request.IgnoreEos, request.Grammar);
        SubmittedAt = Stopwatch.GetTimestamp();
    }

    public long Id { get; }

    public EngineRequest Request { get; }

    public int MaxTokens { get; }

    public KvRetention Retention { get; }

    /// <summary>The sample of the same prompt whose KV blocks this one forks (see <see cref="InferenceEngine.Submit(IReadOnlyList{EngineRequest}, CancellationToken)"/>).</summary>
    public long? ForkOf { get; init; }

    public Sampler Sampler => _output.Sampler;

    /// <summary>This sequence's drafting; null when it decodes plainly.</summary>
    public SequenceSpeculator? Speculator { get; }

    /// <summary>The draft planned for this step, if any.</summary>
    public Draft Draft { get; set; } = Draft.None;

    public Channel<EngineEvent> Events { get; } = Channel.CreateUnbounded<EngineEvent>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });

    public long SubmittedAt { get; }

    /// <summary>Left the queue (got its first step); counted once.</summary>
    public bool Admitted { get; set; }

    public int Generated => _output.Generated;

    public int CachedPromptTokens { get; set; }

    public bool Done { get; private set; }

    /// <summary>Samples the next token from this sequence's logits row; true when it ends the generation.</summary>
    public (int Token, bool Stop) Sample(ReadOnlySpan<float> logits, EngineMetrics metrics)
    {
        var step = _output.Next(logits);
        int token = step.Token;
        if (step.EndOfGeneration)
            return (token, true);
        long now = Stopwatch.GetTimestamp();
        if (_lastTokenAt == 0) metrics.TimeToFirstToken.Observe(Stopwatch.GetElapsedTime(SubmittedAt, now).TotalSeconds);
        else metrics.InterTokenLatency.Observe(Stopwatch.GetElapsedTime(_lastTokenAt, now).TotalSeconds);
        _lastTokenAt = now;

        TokenLogprob? chosen = null;
        List<TokenLogprob>? top = null;
        if (Request.Logprobs)
            (chosen, top) = Logprobs(logits, token);
        Events.Writer.TryWrite(new EngineToken(token, step.Text, chosen, top));
        return (token, step.StopString);
    }

    /// <summary>
    /// Verifies the first <paramref name="drafted"/> tokens of <see cref="Draft"/> against <paramref name="rows"/>
    /// ([drafted + 1, vocab]) and emits what follows (<see cref="TokenOutput.NextDrafted"/>), each token as
    /// <see cref="Sample"/> would: adds (token, stop) pairs to <paramref name="sampled"/> and returns the accepted count.
    /// </summary>
    public int SampleDrafted(ReadOnlySpan<float> rows, int drafted, EngineMetrics metrics, List<(int Token, bool Stop)> sampled)
    {
        var draft = Draft;
        int vocab = rows.Length / (drafted + 1);
        var q = draft.Probabilities.Length == 0 ? ReadOnlySpan<float>.Empty : draft.Probabilities.AsSpan(0, drafted * vocab);
        int accepted = _output.NextDrafted(rows, draft.Tokens.AsSpan(0, drafted), q, MaxTokens - Generated, _steps);
        Speculator!.Record(draft with { Tokens = draft.Tokens[..drafted] }, accepted);
        metrics.Speculated(drafted, accepted);
        long now = Stopwatch.GetTimestamp();
        double each = _lastTokenAt == 0 ? 0 : Stopwatch.GetElapsedTime(_lastTokenAt, now).TotalSeconds / Math.Max(1, _steps.Count);
        for (int i = 0; i < _steps.Count; i++)
        {
            var step = _steps[i];
            if (step.EndOfGeneration)
            {
                sampled.Add((step.Token, true));
                break;
            }
            if (_lastTokenAt == 0) metrics.TimeToFirstToken.Observe(Stopwatch.GetElapsedTime(SubmittedAt, now).TotalSeconds);
            else metrics.InterTokenLatency.Observe(each);
            _lastTokenAt = now;
            TokenLogprob? chosen = null;
            List<TokenLogprob>? top = null;
            if (Request.Logprobs)
                (chosen, top) = Logprobs(rows.Slice(i * vocab, vocab), step.Token);
            Events.Writer.TryWrite(new EngineToken(step.Token, step.Text, chosen, top));
            sampled.Add((step.Token, step.StopString));
            if (step.StopString) break;
        }
        Draft = Draft.None;
        return accepted;
    }

    private readonly List<TokenStep> _steps = [];

    /// <summary>Sends the held-back text and the final event, and closes the stream.</summary>
    public void Finish(EngineFinishReason reason)
    {
        if (Done) return;
        Done = true;
        string tail = reason == EngineFinishReason.Cancelled ? "" : _output.Finish().Tail;
        Events.Writer.TryWrite(new EngineFinished(tail, reason, Request.PromptTokens.Count, Generated, CachedPromptTokens));
        Events.Writer.TryComplete();
    }

    public void Fail(Exception error)
    {
        if (Done) return;
        Done = true;
        Events.Writer.TryComplete(error);
    }

    /// <summary>log softmax of the raw logits at <paramref name="token"/>, and the top alternatives.</summary>
    private (TokenLogprob, List<TokenLogprob>?) Logprobs(ReadOnlySpan<float> logits, int token)
    {
        float max = TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - max);
        float logZ = max + (float)Math.Log(sum);
        var chosen = new TokenLogprob(token, _tokenizer.Decode([token]), logits[token] - logZ);
        if (Request.TopLogprobs <= 0) return (chosen, null);
        int k = Math.Min(Request.TopLogprobs, logits.Length);
        var best = new List<int>(k + 1);
        for (int i = 0; i < logits.Length; i++)
        {
            if (best.Count == k && logits[i] <= logits[best[^1]]) continue;
            int at = best.Count;
            while (at > 0 && logits[best[at - 1]] < logits[i]) at--;
            best.Insert(at, i);
            if (best.Count > k) best.RemoveAt(k);
        }
        var top = new List<TokenLogprob>(best.Count);
        foreach (int id in best) top.Add(new TokenLogprob(id, _tokenizer.Decode([id]), logits[id] - logZ));
        return (chosen, top);
    }
}
