using Frugal.Inference.Engine;
using Frugal.Server;

namespace Frugal.Cluster.Wire;

/// <summary>What kind of <see cref="WireEvent"/> it is.</summary>
public enum WireEventKind
{
    Token,
    Finished,

    /// <summary>The silo refused or failed the request; <see cref="WireEvent.Error"/> says why.</summary>
    Error,
}

[GenerateSerializer, Immutable]
public sealed record WireLogprob([property: Id(0)] int TokenId, [property: Id(1)] string Text, [property: Id(2)] float Logprob)
{
    public static WireLogprob From(TokenLogprob l) => new(l.TokenId, l.Text, l.Logprob);

    public TokenLogprob ToTokenLogprob() => new(TokenId, Text, Logprob);
}

/// <summary>An error as the client should see it (an <see cref="ApiError"/>'s fields).</summary>
[GenerateSerializer, Immutable]
public sealed record WireError([property: Id(0)] int Status, [property: Id(1)] string Message, [property: Id(2)] string Type,
    [property: Id(3)] string? Param, [property: Id(4)] string? Code)
{
    public static WireError From(ApiError e) => new(e.Status, e.Message, e.Type, e.Param, e.Code);

    public ApiError ToApiError() => new(Status, Message, Type, Param, Code) { RetryAfterSeconds = Status == 429 ? 1 : null };
}

/// <summary>One <see cref="ChoiceEvent"/> (or a refusal) as it travels back from the silo to the gateway.</summary>
[GenerateSerializer, Immutable]
public sealed class WireEvent
{
    [Id(0)] public WireEventKind Kind { get; init; }
    [Id(1)] public int Index { get; init; }
    [Id(2)] public int TokenId { get; init; }
    [Id(3)] public string Text { get; init; } = "";
    [Id(4)] public WireLogprob? Logprob { get; init; }
    [Id(5)] public WireLogprob[]? TopLogprobs { get; init; }
    [Id(6)] public EngineFinishReason Reason { get; init; }
    [Id(7)] public int PromptTokens { get; init; }
    [Id(8)] public int CompletionTokens { get; init; }
    [Id(9)] public int CachedPromptTokens { get; init; }
    [Id(10)] public WireError? Error { get; init; }

    public static WireEvent From(ChoiceEvent e) => e.Event switch
    {
        EngineToken t => new WireEvent
        {
            Kind = WireEventKind.Token, Index = e.Index, TokenId = t.TokenId, Text = t.Text,
            Logprob = t.Logprob is { } l ? WireLogprob.From(l) : null,
            TopLogprobs = t.TopLogprobs?.Select(WireLogprob.From).ToArray(),
        },
        EngineFinished f => new WireEvent
        {
            Kind = WireEventKind.Finished, Index = e.Index, Text = f.Text, Reason = f.Reason,
            PromptTokens = f.PromptTokens, CompletionTokens = f.CompletionTokens, CachedPromptTokens = f.CachedPromptTokens,
        },
        var other => throw new InvalidOperationException($"no wire form for {other.GetType().Name}"),
    };

    public static WireEvent Failed(ApiError e) => new() { Kind = WireEventKind.Error, Error = WireError.From(e) };

    public ChoiceEvent ToChoiceEvent() => Kind switch
    {
        WireEventKind.Token => new ChoiceEvent(Index, new EngineToken(TokenId, Text, Logprob?.ToTokenLogprob(), TopLogprobs?.Select(l => l.ToTokenLogprob()).ToArray())),
        WireEventKind.Finished => new ChoiceEvent(Index, new EngineFinished(Text, Reason, PromptTokens, CompletionTokens, CachedPromptTokens)),
        _ => throw Error!.ToApiError(),
    };
}
