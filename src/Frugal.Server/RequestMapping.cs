using Frugal.Inference.Engine;
using Frugal.Inference.Retention;
using Frugal.Inference.Sampling;
using Frugal.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Frugal.Server;

/// <summary>Checks the OpenAI request fields and turns them into engine requests, one per choice.</summary>
internal static class RequestMapping
{
    public static IReadOnlyList<EngineRequest> ToEngineRequests(SamplingFields body, int[] prompt, int? maxTokens, bool logprobs, int topLogprobs, int maxChoices,
        InferenceEngine engine, Frugal.Inference.Constraints.GbnfGrammar? toolGrammar = null)
    {
        RefusedFields.Check(body);
        var retention = KvRetention(body, engine.Options.KvRetention, engine.ContextLength);
        int n = body.N ?? 1;
        if (n < 1 || n > maxChoices) throw ApiError.BadRequest($"n must be within [1, {maxChoices}], got {n}", "n");
        float temperature = body.Temperature ?? 1f;
        if (temperature is < 0 or > 2 || float.IsNaN(temperature)) throw ApiError.BadRequest($"temperature must be within [0, 2], got {temperature}", "temperature");
        float topP = body.TopP ?? 1f;
        if (topP is <= 0 or > 1 || float.IsNaN(topP)) throw ApiError.BadRequest($"top_p must be within (0, 1], got {topP}", "top_p");
        float presence = body.PresencePenalty ?? 0, frequency = body.FrequencyPenalty ?? 0;
        if (presence is < -2 or > 2) throw ApiError.BadRequest($"presence_penalty must be within [-2, 2], got {presence}", "presence_penalty");
        if (frequency is < -2 or > 2) throw ApiError.BadRequest($"frequency_penalty must be within [-2, 2], got {frequency}", "frequency_penalty");
        var defaults = new SamplingOptions();
        int topK = body.TopK ?? defaults.TopK;
        if (topK < 0) throw ApiError.BadRequest($"top_k must be at least 0 (0 = disabled), got {topK}", "top_k");
        float minP = body.MinP ?? defaults.MinP;
        if (minP is < 0 or > 1) throw ApiError.BadRequest($"min_p must be within [0, 1], got {minP}", "min_p");
        if (body.RepeatPenalty is not null && body.RepetitionPenalty is not null && body.RepeatPenalty != body.RepetitionPenalty)
            throw ApiError.BadRequest("repeat_penalty and repetition_penalty name the same setting; send one", "repetition_penalty");
        float repeat = body.RepeatPenalty ?? body.RepetitionPenalty ?? defaults.RepeatPenalty;
        string repeatName = body.RepeatPenalty is null && body.RepetitionPenalty is not null ? "repetition_penalty" : "repeat_penalty";
        if (repeat is <= 0 or > 100 || !float.IsFinite(repeat)) throw ApiError.BadRequest($"{repeatName} must be within (0, 100], got {repeat}", repeatName);
        int lastN = body.RepeatLastN ?? defaults.PenaltyLastN;
        if (lastN < -1) throw ApiError.BadRequest($"repeat_last_n must be at least -1 (-1 = the whole context), got {lastN}", "repeat_last_n");
        var bias = LogitBias(body.LogitBias, engine.ModelConfig.VocabSize);
        if (maxTokens is < 1) throw ApiError.BadRequest($"max_tokens must be at least 1, got {maxTokens}", "max_tokens");
        var stop = body.Stop ?? [];
        if (stop.Count > 4) throw ApiError.BadRequest($"stop holds at most 4 strings, got {stop.Count}", "stop");
        if (stop.Any(string.IsNullOrEmpty)) throw ApiError.BadRequest("stop strings must not be empty", "stop");
        if (topLogprobs is < 0 or > 20) throw ApiError.BadRequest($"top_logprobs must be within [0, 20], got {topLogprobs}", "top_logprobs");
        var grammar = ResponseGrammar.From(body);
        if (toolGrammar is not null)
        {
            if (grammar is not null)
                throw ApiError.BadRequest("a required tool call cannot be combined with grammar or a JSON response_format", body.Grammar is null ? "response_format" : "grammar");
            grammar = toolGrammar;
        }

        var requests = new EngineRequest[n];
        for (int i = 0; i < n; i++)
        {
            requests[i] = new EngineRequest
            {
                PromptTokens = prompt,
                MaxTokens = maxTokens,
                StopStrings = stop,
                Logprobs = logprobs,
                TopLogprobs = topLogprobs,
                KvRetention = retention,
                IgnoreEos = body.IgnoreEos ?? false,
                Grammar = grammar,
                Sampling = new SamplingOptions
                {
                    Temperature = temperature,
                    TopP = topP,
                    TopK = topK,
                    MinP = minP,
                    RepeatPenalty = repeat,
                    PenaltyLastN = lastN,
                    LogitBias = bias,
                    PresencePenalty = presence,
                    FrequencyPenalty = frequency,
                    // Choice i of a seeded request uses seed + i: the n choices differ, and the request repeats.
                    Seed = body.Seed is long seed ? unchecked((ulong)seed + (ulong)i) : null,
                },
            };
        }
        return requests;
    }

    /// <summary>OpenAI's logit_bias: token ids as strings, each in the vocabulary, biases within [-100, 100].</summary>
    private static Dictionary<int, float> LogitBias(Dictionary<string, float>? field, int vocab)
    {
        var bias = new Dictionary<int, float>();
        if (field is null) return bias;
        if (field.Count > 1024) throw ApiError.BadRequest($"logit_bias holds at most 1024 tokens, got {field.Count}", "logit_bias");
        foreach (var (key, value) in field)
        {
            if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int token) || token >= vocab)
                throw ApiError.BadRequest($"logit_bias keys must be token ids in [0, {vocab}), got '{key}'", "logit_bias");
            if (value is < -100 or > 100 || !float.IsFinite(value))
                throw ApiError.BadRequest($"logit_bias values must be within [-100, 100], got {value} for token {token}", "logit_bias");
            bias[token] = value;
        }
        return bias;
    }

    /// <summary>The server's retention settings with the request's kv_budget, kv_policy, kv_sinks, context_shift and n_keep on top.</summary>
    public static KvRetentionOptions KvRetention(SamplingFields body, KvRetentionOptions defaults, int context)
    {
        if (body.KvBudget is null && body.KvPolicy is null && body.KvSinks is null && body.ContextShift is null && body.NKeep is null)
            return defaults;
        if (body.KvBudget is < 1) throw ApiError.BadRequest($"kv_budget must be at least 1, got {body.KvBudget}", "kv_budget");
        if (body.KvBudget >= context) throw ApiError.BadRequest($"kv_budget must be smaller than the context ({context}), got {body.KvBudget}", "kv_budget");
        if (body.KvSinks is < 0) throw ApiError.BadRequest($"kv_sinks must be at least 0, got {body.KvSinks}", "kv_sinks");
        if (body.NKeep is < 0) throw ApiError.BadRequest($"n_keep must be at least 0, got {body.NKeep}", "n_keep");
        var policy = defaults.Policy;
        if (body.KvPolicy is { } name)
        {
            try
            {
                policy = KvRetentionOptions.ParsePolicy(name);
            }
            catch (ArgumentException)
            {
                throw ApiError.BadRequest($"kv_policy must be one of {string.Join(", ", KvRetentionOptions.PolicyNames)}, got '{name}'", "kv_policy");
            }
        }
        var options = defaults with
        {
            Budget = body.KvBudget ?? defaults.Budget,
            Policy = policy,
            Sinks = body.KvSinks ?? defaults.Sinks,
            ContextShift = body.ContextShift ?? defaults.ContextShift,
            Keep = body.NKeep ?? defaults.Keep,
        };
        if (options.Budget is int budget && options.Policy != KvEvictionPolicy.Window && options.Sinks >= budget)
            throw ApiError.BadRequest($"kv_sinks ({options.Sinks}) must be smaller than kv_budget ({budget})", body.KvSinks is null ? "kv_budget" : "kv_sinks");
        return options;
    }

    public static string FinishReason(EngineFinishReason reason) => reason == EngineFinishReason.Length ? "length" : "stop";

    /// <summary>The usage object of a finished request; also kept for the request's log line.</summary>
    public static Usage Usage(HttpContext context, int promptTokens, IEnumerable<EngineFinished> finished)
    {
        var list = finished.ToList();
        int completion = list.Sum(f => f.CompletionTokens);
        var usage = new Usage(promptTokens, completion, promptTokens + completion, new PromptTokensDetails(list.Count > 0 ? list[0].CachedPromptTokens : 0));
        RequestGuard.RecordUsage(context, usage);
        return usage;
    }
}
