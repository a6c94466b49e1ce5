using Frugal.Inference.Constraints;
using Frugal.Inference.Engine;
using Frugal.Inference.Retention;
using Frugal.Inference.Sampling;

namespace Frugal.Cluster.Wire;

/// <summary>
/// One <see cref="EngineRequest"/> as it travels from a gateway to the silo that runs it. The gateway has parsed,
/// validated and tokenized the request already; the silo only rebuilds it (a grammar from its GBNF text).
/// </summary>
[GenerateSerializer, Immutable]
public sealed class WireRequest
{
    [Id(0)] public int[] Prompt { get; init; } = [];
    [Id(1)] public int? MaxTokens { get; init; }
    [Id(2)] public string[] Stop { get; init; } = [];
    [Id(3)] public bool Logprobs { get; init; }
    [Id(4)] public int TopLogprobs { get; init; }
    [Id(5)] public bool IgnoreEos { get; init; }
    [Id(6)] public string? Grammar { get; init; }
    [Id(7)] public float Temperature { get; init; }
    [Id(8)] public float TopP { get; init; }
    [Id(9)] public int TopK { get; init; }
    [Id(10)] public float MinP { get; init; }
    [Id(11)] public float RepeatPenalty { get; init; }
    [Id(12)] public int PenaltyLastN { get; init; }
    [Id(13)] public float PresencePenalty { get; init; }
    [Id(14)] public float FrequencyPenalty { get; init; }
    [Id(15)] public Dictionary<int, float> LogitBias { get; init; } = [];
    [Id(16)] public ulong? Seed { get; init; }
    [Id(17)] public bool HasRetention { get; init; }
    [Id(18)] public bool ContextShift { get; init; }
    [Id(19)] public int Keep { get; init; }
    [Id(20)] public int? Budget { get; init; }
    [Id(21)] public int Policy { get; init; }
    [Id(22)] public int Sinks { get; init; }

    public static WireRequest From(EngineRequest r)
    {
        var s = r.Sampling;
        var k = r.KvRetention;
        return new WireRequest
        {
            Prompt = [.. r.PromptTokens],
            MaxTokens = r.MaxTokens,
            Stop = [.. r.StopStrings],
            Logprobs = r.Logprobs,
            TopLogprobs = r.TopLogprobs,
            IgnoreEos = r.IgnoreEos,
            Grammar = r.Grammar?.Text,
            Temperature = s.Temperature,
            TopP = s.TopP,
            TopK = s.TopK,
            MinP = s.MinP,
            RepeatPenalty = s.RepeatPenalty,
            PenaltyLastN = s.PenaltyLastN,
            PresencePenalty = s.PresencePenalty,
            FrequencyPenalty = s.FrequencyPenalty,
            LogitBias = s.LogitBias.ToDictionary(),
            Seed = s.Seed,
            HasRetention = k is not null,
            ContextShift = k?.ContextShift ?? false,
            Keep = k?.Keep ?? 0,
            Budget = k?.Budget,
            Policy = (int)(k?.Policy ?? KvEvictionPolicy.Sinks),
            Sinks = k?.Sinks ?? 0,
        };
    }

    public EngineRequest ToEngineRequest() => new()
    {
        PromptTokens = Prompt,
        MaxTokens = MaxTokens,
        StopStrings = Stop,
        Logprobs = Logprobs,
        TopLogprobs = TopLogprobs,
        IgnoreEos = IgnoreEos,
        Grammar = Grammar is null ? null : GbnfGrammar.Parse(Grammar),
        Sampling = new SamplingOptions
        {
            Temperature = Temperature,
            TopP = TopP,
            TopK = TopK,
            MinP = MinP,
            RepeatPenalty = RepeatPenalty,
            PenaltyLastN = PenaltyLastN,
            PresencePenalty = PresencePenalty,
            FrequencyPenalty = FrequencyPenalty,
            LogitBias = LogitBias,
            Seed = Seed,
        },
        KvRetention = HasRetention
            ? new KvRetentionOptions { ContextShift = ContextShift, Keep = Keep, Budget = Budget, Policy = (KvEvictionPolicy)Policy, Sinks = Sinks }
            : null,
    };
}

/// <summary>All choices of one client request, sent to one silo.</summary>
/// <param name="Requests">the choices, in the client's order.</param>
/// <param name="PromptParam">the field that holds the prompt, named in a "too long" error.</param>
/// <param name="UncachedTokens">prompt tokens the router expects this silo to compute (not in its prefix cache): its load until the first token.</param>
[GenerateSerializer, Immutable]
public sealed record WireJob([property: Id(0)] WireRequest[] Requests, [property: Id(1)] string PromptParam, [property: Id(2)] int UncachedTokens);
