using System.Runtime.InteropServices;
using Frugal.Inference.Engine;
using Frugal.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Frugal.Server.Endpoints;

/// <summary>POST /v1/embeddings: one pooled, L2-normalized embedding per input, in order.</summary>
internal static class EmbeddingsEndpoint
{
    private const int MaxInputs = 256;

    public static async Task HandleAsync(HttpContext context, ServerState state)
    {
        var served = state.RequireModel();
        var body = await RequestBody.ReadAsync<EmbeddingRequest>(context, state.Options.MaxBodyBytes);
        if (body.Input is not { Count: > 0 }) throw ApiError.BadRequest("input must hold at least one text or token array", "input");
        if (body.Input.Count > MaxInputs) throw ApiError.BadRequest($"input holds at most {MaxInputs} items, got {body.Input.Count}", "input");
        bool base64 = body.EncodingFormat switch
        {
            null or "float" => false,
            "base64" => true,
            var other => throw ApiError.BadRequest($"encoding_format must be float or base64, got '{other}'", "encoding_format"),
        };
        int width = served.Engine.ModelConfig.EmbeddingLength;
        if (body.Dimensions is int d && d != width)
            throw ApiError.BadRequest($"dimensions must be this model's embedding width ({width}), got {d}: vectors are not truncated", "dimensions");
        var inputs = body.Input.Select((p, i) => Tokens(p, i, served)).ToList();

        var data = new List<EmbeddingData>(inputs.Count);
        int promptTokens = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            float[] vector;
            try
            {
                vector = await served.Engine.EmbedAsync(inputs[i], served.Pooling, context.RequestAborted);
            }
            catch (ContextLengthExceededException e)
            {
                throw new ApiError(400, $"input {i}: {e.Message}", param: "input", code: "context_length_exceeded");
            }
            promptTokens += inputs[i].Length;
            data.Add(new EmbeddingData(i, base64 ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())) : vector));
        }
        var usage = new Usage(promptTokens, 0, promptTokens);
        RequestGuard.RecordUsage(context, usage);
        await Results.Json(new EmbeddingList(data, served.Id, new EmbeddingUsage(promptTokens, promptTokens)), ServerJson.Options).ExecuteAsync(context);
    }

    /// <summary>Input <paramref name="index"/>'s tokens: its text tokenized (BOS added), or its ids checked against the vocabulary.</summary>
    private static int[] Tokens(CompletionPrompt input, int index, ServedModel served)
    {
        int[] tokens = input.Text is { } text ? served.Tokenizer.Encode(text, addSpecial: true, parseSpecial: true) : input.Tokens!;
        if (tokens.Length == 0) throw ApiError.BadRequest($"input {index} holds no tokens", "input");
        int vocab = served.Engine.ModelConfig.VocabSize;
        foreach (int t in tokens)
            if ((uint)t >= (uint)vocab) throw ApiError.BadRequest($"input {index} holds token id {t}, outside the vocabulary [0, {vocab})", "input");
        return tokens;
    }
}
