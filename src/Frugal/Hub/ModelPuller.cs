namespace Frugal.Hub;

/// <summary>What a pull did: the cached file, its hash, and whether bytes were downloaded (false: already up to date).</summary>
public sealed record PullResult(string Repo, string File, string Path, long Size, string Sha256, bool Downloaded)
{
    public string Reference => $"{Repo}/{File}";
}

/// <summary>
/// The one place a MODEL argument becomes a local file, for the command line and the server alike: a path stays a
/// path; a hub reference is taken from the cache when it is there (no network), else pulled: the file chosen from the
/// repository's listing, its sha256 and size asked with HEAD, downloaded with resume into a partial file, checked and
/// moved into the cache.
/// </summary>
public sealed class ModelPuller(HubOptions options) : IDisposable
{
    private readonly HubClient _client = new(options);

    public ModelCache Cache { get; } = new(options.CacheDirectory);

    public HubOptions Options => options;

    /// <summary>The local file <paramref name="reference"/> names, pulled first when it is a hub reference not yet cached.</summary>
    public async Task<string> ResolveAsync(string reference, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var r = ModelReference.Parse(reference);
        if (r.LocalPath is { } path) return path;
        return Cache.Find(r) ?? (await PullAsync(r, progress, cancellationToken).ConfigureAwait(false)).Path;
    }

    /// <summary>Asks the hub for the file a reference names and downloads it unless the cache already holds those bytes.</summary>
    public async Task<PullResult> PullAsync(ModelReference reference, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string repo = reference.Repo ?? throw new ArgumentException($"'{reference.Text}' is a local file; pull takes owner/repo, owner/repo:QUANT or owner/repo/file.gguf");
        string file = reference.File
            ?? GgufFileChoice.Choose(repo, await _client.ListFilesAsync(repo, cancellationToken).ConfigureAwait(false), reference.Quant).Path;
        var info = await _client.GetFileInfoAsync(repo, file, cancellationToken).ConfigureAwait(false);
        bool isDefault = reference.File is null && reference.Quant is null;

        string cached = Cache.PathOf(repo, file);
        if (File.Exists(cached) && new FileInfo(cached).Length == info.Size
            && (Cache.RecordedSha256(repo, file) ?? await FileDownload.Sha256Async(cached, cancellationToken).ConfigureAwait(false)) == info.Sha256)
        {
            Cache.Record(info, isDefault);
            return new PullResult(repo, file, cached, info.Size, info.Sha256, Downloaded: false);
        }

        string partial = Cache.PartialPathOf(info.Sha256);
        await FileDownload.RunAsync(_client, info, partial, options, progress, cancellationToken).ConfigureAwait(false);
        string path = Cache.Commit(info, partial, isDefault);
        return new PullResult(repo, file, path, info.Size, info.Sha256, Downloaded: true);
    }

    public void Dispose() => _client.Dispose();
}
