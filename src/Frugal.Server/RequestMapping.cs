using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Server.Protocol;

namespace Frugal.Server;

/// <summary>Checks the OpenAI request fields and turns them into engine requests, one per choice.</summary>
internal static class RequestMapping
{
    public static IReadOnlyList<EngineRequest> ToEngineRequests(SamplingFields body, int[] prompt, int? maxTokens, bool logprobs, int topLogprobs, int maxChoices)
    {
        int n = body.N ?? 1;
        if (n < 1 || n > maxChoices) throw ApiError.BadRequest($"n must be within [1, {maxChoices}], got {n}", "n");
        float temperature = body.Temperature ?? 1f;
        if (temperature is < 0 or > 2 || float.IsNaN(temperature)) throw ApiError.BadRequest($"temperature must be within [0, 2], got {temperature}", "temperature");
        float topP = body.TopP ?? 1f;
        if (topP is <= 0 or > 1 || float.IsNaN(topP)) throw ApiError.BadRequest($"top_p must be within (0, 1], got {topP}", "top_p");
        float presence = body.PresencePenalty ?? 0, frequency = body.FrequencyPenalty ?? 0;
        if (presence is < -2 or > 2) throw ApiError.BadRequest($"presence_penalty must be within [-2, 2], got {presence}", "presence_penalty");
        if (frequency is < -2 or > 2) throw ApiError.BadRequest($"frequency_penalty must be within [-2, 2], got {frequency}", "frequency_penalty");
        if (maxTokens is < 1) throw ApiError.BadRequest($"max_tokens must be at least 1, got {maxTokens}", "max_tokens");
        var stop = body.Stop ?? [];
        if (stop.Count > 4) throw ApiError.BadRequest($"stop holds at most 4 strings, got {stop.Count}", "stop");
        if (stop.Any(string.IsNullOrEmpty)) throw ApiError.BadRequest("stop strings must not be empty", "stop");
        if (topLogprobs is < 0 or > 20) throw ApiError.BadRequest($"top_logprobs must be within [0, 20], got {topLogprobs}", "top_logprobs");

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
                Sampling = new SamplingOptions
                {
                    Temperature = temperature,
                    TopP = topP,
                    PresencePenalty = presence,
                    FrequencyPenalty = frequency,
                    // Choice i of a seeded request uses seed + i: the n choices differ, and the request repeats.
                    Seed = body.Seed is long seed ? unchecked((ulong)seed + (ulong)i) : null,
                },
            };
        }
        return requests;
    }

    public static string FinishReason(EngineFinishReason reason) => reason == EngineFinishReason.Length ? "length" : "stop";

    public static Usage Usage(int promptTokens, IEnumerable<EngineFinished> finished)
    {
        var list = finished.ToList();
        int completion = list.Sum(f => f.CompletionTokens);
        return new Usage(promptTokens, completion, promptTokens + completion, new PromptTokensDetails(list.Count > 0 ? list[0].CachedPromptTokens : 0));
    }
}
