using System.Text.Json;

namespace Frugal.Hub;

/// <summary>A model file in the cache: <see cref="Reference"/> is the <c>owner/repo/file.gguf</c> that names it.</summary>
public sealed record CachedModel(string Repo, string File, string Path, long Size)
{
    public string Reference => $"{Repo}/{File}";
}

/// <summary>
/// The cache folder (FRUGAL_HOME). <c>models/{owner}/{repo}/{file}</c> holds only complete, verified files: a download
/// grows in <c>partial/{sha256}.partial</c> (keyed by content, so a changed upstream file never resumes a stale one) and
/// is moved in by one rename after its hash checked out. <c>manifests/{owner}/{repo}.json</c> remembers each cached
/// file's sha256 and which file a bare <c>owner/repo</c> chose, so a cached model runs without the network.
/// </summary>
public sealed class ModelCache(string root)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string Root { get; } = System.IO.Path.GetFullPath(root);

    public string ModelsDirectory => System.IO.Path.Combine(Root, "models");

    public string PartialDirectory => System.IO.Path.Combine(Root, "partial");

    public string PathOf(string repo, string file) => System.IO.Path.Combine(ModelsDirectory, Native(repo), Native(file));

    public string PartialPathOf(string sha256) => System.IO.Path.Combine(PartialDirectory, sha256 + ".partial");

    /// <summary>Every cached model file, ordered by reference.</summary>
    public IReadOnlyList<CachedModel> List()
    {
        if (!Directory.Exists(ModelsDirectory)) return [];
        var models = new List<CachedModel>();
        foreach (var path in Directory.EnumerateFiles(ModelsDirectory, "*", SearchOption.AllDirectories))
        {
            var parts = System.IO.Path.GetRelativePath(ModelsDirectory, path).Split(System.IO.Path.DirectorySeparatorChar);
            if (parts.Length < 3 || !path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) continue;
            models.Add(new CachedModel($"{parts[0]}/{parts[1]}", string.Join('/', parts[2..]), path, new FileInfo(path).Length));
        }
        return models.OrderBy(m => m.Reference, StringComparer.Ordinal).ToList();
    }

    /// <summary>Downloads that stopped before the end (resumed by the next pull of the same file).</summary>
    public IReadOnlyList<(string Path, long Size)> Partials() => Directory.Exists(PartialDirectory)
        ? Directory.EnumerateFiles(PartialDirectory, "*.partial").Select(p => (p, new FileInfo(p).Length)).ToList()
        : [];

    /// <summary>The cached file a hub reference names, or null when it has to be pulled.</summary>
    public string? Find(ModelReference reference)
    {
        string repo = reference.Repo ?? throw new ArgumentException($"'{reference.Text}' is a local path, not a hub reference");
        if (reference.File is { } file) return File.Exists(PathOf(repo, file)) ? PathOf(repo, file) : null;
        if (reference.Quant is { } quant)
        {
            var matches = Files(repo).Where(m => GgufFileChoice.MatchesQuant(m.File, quant)).ToList();
            return matches.Count == 1 ? matches[0].Path : null;
        }
        return ReadManifest(repo).Default is { } chosen && File.Exists(PathOf(repo, chosen)) ? PathOf(repo, chosen) : null;
    }

    /// <summary>Deletes the cached files a reference names (all of a repository's for <c>owner/repo</c>); returns them.</summary>
    public IReadOnlyList<CachedModel> Remove(ModelReference reference)
    {
        string repo = reference.Repo ?? throw new ArgumentException($"'{reference.Text}' is a local path, not a cached model reference");
        var doomed = Files(repo).Where(m => reference.File is { } f ? m.File == f
            : reference.Quant is not { } q || GgufFileChoice.MatchesQuant(m.File, q)).ToList();
        var manifest = ReadManifest(repo);
        foreach (var m in doomed)
        {
            File.Delete(m.Path);
            manifest.Files.Remove(m.File);
            if (manifest.Default == m.File) manifest.Default = null;
            DeleteEmptyFolders(System.IO.Path.GetDirectoryName(m.Path)!);
        }
        if (doomed.Count > 0)
        {
            if (manifest.Files.Count == 0) File.Delete(ManifestPath(repo));
            else WriteManifest(repo, manifest);
        }
        return doomed;
    }

    /// <summary>The sha256 the cache recorded for a file when it was pulled, or null.</summary>
    public string? RecordedSha256(string repo, string file) =>
        ReadManifest(repo).Files.TryGetValue(file, out var entry) ? entry.Sha256 : null;

    /// <summary>Moves a verified download into the cache (one rename) and records it.</summary>
    internal string Commit(HubFileInfo info, string verifiedPartial, bool isDefault)
    {
        string path = PathOf(info.Repo, info.Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.Move(verifiedPartial, path, overwrite: true);
        Record(info, isDefault);
        return path;
    }

    /// <summary>Notes a cached file's hash (and, for a bare <c>owner/repo</c>, that it is the repository's choice).</summary>
    internal void Record(HubFileInfo info, bool isDefault)
    {
        var manifest = ReadManifest(info.Repo);
        manifest.Files[info.Path] = new ManifestEntry(info.Sha256, info.Size);
        if (isDefault) manifest.Default = info.Path;
        WriteManifest(info.Repo, manifest);
    }

    private IEnumerable<CachedModel> Files(string repo) => List().Where(m => m.Repo == repo);

    private string ManifestPath(string repo) => System.IO.Path.Combine(Root, "manifests", Native(repo) + ".json");

    private RepoManifest ReadManifest(string repo)
    {
        string path = ManifestPath(repo);
        if (!File.Exists(path)) return new RepoManifest();
        try
        {
            return JsonSerializer.Deserialize<RepoManifest>(File.ReadAllText(path), Json) ?? new RepoManifest();
        }
        catch (JsonException)
        {
            return new RepoManifest(); // a damaged manifest only costs a re-check against the hub
        }
    }

    private void WriteManifest(string repo, RepoManifest manifest)
    {
        string path = ManifestPath(repo);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        string temp = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(manifest, Json));
        File.Move(temp, path, overwrite: true);
    }

    private void DeleteEmptyFolders(string folder)
    {
        while (folder.Length > ModelsDirectory.Length && folder.StartsWith(ModelsDirectory, StringComparison.Ordinal)
               && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
        {
            Directory.Delete(folder);
            folder = System.IO.Path.GetDirectoryName(folder)!;
        }
    }

    private static string Native(string slashed) => slashed.Replace('/', System.IO.Path.DirectorySeparatorChar);

    private sealed class RepoManifest
    {
        public string? Default { get; set; }

        public Dictionary<string, ManifestEntry> Files { get; set; } = new(StringComparer.Ordinal);
    }

    private sealed record ManifestEntry(string Sha256, long Size);
}
