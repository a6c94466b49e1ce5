namespace Frugal.Inference.Sampling;

/// <summary>
/// Settings of the sampler chain, with llama.cpp's defaults and meanings. Every value is checked when it is set,
/// so a bad value fails where it is written with an <see cref="ArgumentException"/> that names it.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Greedy decoding: always the most likely token (after penalties).</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    /// <summary>Softmax temperature; 0 means greedy. llama.cpp default 0.8.</summary>
    public float Temperature
    {
        get;
        init => field = Check(value, v => v >= 0 && float.IsFinite(v), nameof(Temperature), "a finite number >= 0 (0 = greedy)");
    } = 0.8f;

    /// <summary>Keep only the K most likely tokens; 0 disables. llama.cpp default 40.</summary>
    public int TopK
    {
        get;
        init => field = Check(value, v => v >= 0, nameof(TopK), "an integer >= 0 (0 = disabled)");
    } = 40;

    /// <summary>Keep the smallest set of most likely tokens whose probabilities sum to at least P; 1 disables. Default 0.95.</summary>
    public float TopP
    {
        get;
        init => field = Check(value, v => v >= 0 && v <= 1, nameof(TopP), "a number in [0, 1] (1 = disabled)");
    } = 0.95f;

    /// <summary>Drop tokens whose probability is below P times the most likely one's; 0 disables. Default 0.05.</summary>
    public float MinP
    {
        get;
        init => field = Check(value, v => v >= 0 && v <= 1, nameof(MinP), "a number in [0, 1] (0 = disabled)");
    } = 0.05f;

    /// <summary>Divides positive and multiplies negative logits of recently seen tokens; 1 disables.</summary>
    public float RepeatPenalty
    {
        get;
        init => field = Check(value, v => v > 0 && float.IsFinite(v), nameof(RepeatPenalty), "a finite number > 0 (1 = disabled)");
    } = 1.0f;

    /// <summary>Subtracted from the logit of every token seen in the window (OpenAI's presence_penalty); 0 disables.</summary>
    public float PresencePenalty
    {
        get;
        init => field = Check(value, float.IsFinite, nameof(PresencePenalty), "a finite number (0 = disabled)");
    }

    /// <summary>Subtracted once per occurrence in the window (OpenAI's frequency_penalty); 0 disables.</summary>
    public float FrequencyPenalty
    {
        get;
        init => field = Check(value, float.IsFinite, nameof(FrequencyPenalty), "a finite number (0 = disabled)");
    }

    /// <summary>How many of the last tokens the penalties look at; 0 disables, -1 means the whole context. Default 64.</summary>
    public int PenaltyLastN
    {
        get;
        init => field = Check(value, v => v >= -1, nameof(PenaltyLastN), "an integer >= -1 (-1 = whole context, 0 = disabled)");
    } = 64;

    /// <summary>
    /// Added to the logit of each token id before anything else in the chain, greedy included (OpenAI's and llama.cpp's
    /// logit_bias): -100 bans a token in practice, +100 forces it; -infinity bans it outright (llama.cpp's -inf). Ids must lie in the vocabulary (checked by the sampler).
    /// </summary>
    public IReadOnlyDictionary<int, float> LogitBias
    {
        get;
        init => field = Check(value, v => v is not null && v.Values.All(b => float.IsFinite(b) || float.IsNegativeInfinity(b)), nameof(LogitBias),
            "a map of token id to a finite bias or -infinity (a ban)");
    } = new Dictionary<int, float>();

    /// <summary>Seed of the sampler's random generator; the same seed gives the same tokens. Null picks a random seed.</summary>
    public ulong? Seed { get; init; }

    internal bool PenaltiesEnabled => PenaltyLastN != 0 && (RepeatPenalty != 1 || PresencePenalty != 0 || FrequencyPenalty != 0);

    private static T Check<T>(T value, Func<T, bool> ok, string name, string expected) =>
        ok(value) ? value : throw new ArgumentException($"{name} must be {expected}, got {value}", name);
}
