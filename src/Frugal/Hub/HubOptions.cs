namespace Frugal.Hub;

/// <summary>Where the hub is, who asks, and where pulled models are kept.</summary>
public sealed record HubOptions
{
    public static readonly Uri DefaultEndpoint = new("https://huggingface.co");

    /// <summary>The hub or a mirror of it (<c>HF_ENDPOINT</c>).</summary>
    public Uri Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>An access token for gated and private repositories (<c>HF_TOKEN</c>), sent as a bearer token to the endpoint only.</summary>
    public string? Token { get; init; }

    /// <summary>The cache folder (<c>FRUGAL_HOME</c>): models/, partial/ and manifests/ live under it.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>How many times a dropped download is resumed in the same pull before giving up (the partial file stays).</summary>
    public int Retries { get; init; } = 5;

    /// <summary>Pause before resuming a dropped download, times the attempt number.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A download that receives nothing for this long counts as dropped.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The options a user sets through the environment: <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, and <c>FRUGAL_HOME</c>
    /// (default: <c>$XDG_CACHE_HOME/frugal</c>, else <c>~/.cache/frugal</c>; on Windows <c>%LOCALAPPDATA%\frugal</c>).
    /// </summary>
    public static HubOptions FromEnvironment(Func<string, string?> variable)
    {
        string? endpoint = NonEmpty(variable("HF_ENDPOINT"));
        Uri uri = DefaultEndpoint;
        if (endpoint is not null && (!Uri.TryCreate(endpoint.TrimEnd('/'), UriKind.Absolute, out uri!) || uri.Scheme is not ("http" or "https")))
            throw new ArgumentException($"HF_ENDPOINT: '{endpoint}' is not an http(s) URL");
        return new HubOptions
        {
            Endpoint = uri,
            Token = NonEmpty(variable("HF_TOKEN")),
            CacheDirectory = NonEmpty(variable("FRUGAL_HOME")) ?? DefaultCacheDirectory(variable),
        };
    }

    private static string DefaultCacheDirectory(Func<string, string?> variable)
    {
        if (NonEmpty(variable("XDG_CACHE_HOME")) is { } xdg) return Path.Combine(xdg, "frugal");
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "frugal");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "frugal");
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
