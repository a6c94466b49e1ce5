using Frugal.Inference.Retention;
using Frugal.Models;
using Frugal.Numerics.Attention;

namespace Frugal.Server;

/// <summary>How <c>frugal serve</c> runs: where it listens, what it serves, and its limits.</summary>
public sealed record ServerOptions
{
    public required string ModelPath { get; init; }

    /// <summary>Address to bind; loopback unless told otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (see <see cref="FrugalServer.BaseAddress"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>When set, /v1 requests need "Authorization: Bearer KEY".</summary>
    public string? ApiKey { get; init; }

    /// <summary>Sequences decoded together.</summary>
    public int Parallel { get; init; } = 4;

    /// <summary>Context per sequence; null uses the model's (capped at 4096).</summary>
    public int? ContextLength { get; init; }

    /// <summary>Requests that may wait beyond the running ones; more get 429.</summary>
    public int MaxQueuedRequests { get; init; } = 64;

    /// <summary>KV blocks of 16 positions; null gives every parallel sequence a full context.</summary>
    public int? KvBlocks { get; init; }

    /// <summary>Element types of the K and V cache (llama.cpp's <c>-ctk/-ctv</c>); f16/f16 by default.</summary>
    public KvCacheTypes KvCacheTypes { get; init; }

    /// <summary>Context shift or per-sequence KV budget for requests that set none (kv_budget, kv_policy, kv_sinks, context_shift, n_keep).</summary>
    public KvRetentionOptions KvRetention { get; init; } = KvRetentionOptions.None;

    /// <summary>How the weights are held: <c>--mem-budget</c> streams the layers beyond it from the file.</summary>
    public ModelLoadOptions Weights { get; init; } = ModelLoadOptions.Default;

    /// <summary>Largest request body accepted; larger ones get 413.</summary>
    /// <summary>Speculative decoding of every request (off by default here; <c>frugal serve</c> defaults to auto).</summary>
    public Inference.Speculation.SpeculationMode Speculation { get; init; }

    /// <summary>The draft model file for <see cref="Speculation"/> draft or auto; loaded and owned by the server.</summary>
    public string? DraftModelPath { get; init; }

    /// <summary>Most tokens drafted per step.</summary>
    public int DraftMax { get; init; } = 8;

    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>Most choices (n) one request may ask for.</summary>
    public int MaxChoices { get; init; } = 8;

    /// <summary>How /v1/embeddings pools token states; null: the file's {arch}.pooling_type, else mean.</summary>
    public Frugal.Inference.Embeddings.EmbeddingPooling? EmbeddingPooling { get; init; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath)) throw new ArgumentException("a model path is required", nameof(ModelPath));
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "the port must be within [0, 65535]");
        if (Parallel < 1) throw new ArgumentOutOfRangeException(nameof(Parallel), Parallel, "--parallel must be at least 1");
        if (ContextLength is < 1) throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "--ctx must be at least 1");
        if (MaxQueuedRequests < 0) throw new ArgumentOutOfRangeException(nameof(MaxQueuedRequests), MaxQueuedRequests, "the queue length cannot be negative");
        if (MaxBodyBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxBodyBytes), MaxBodyBytes, "the body limit must be positive");
    }
}
