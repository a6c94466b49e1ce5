using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Frugal.Hub;

/// <summary>What the hub says about one file before it is downloaded: its LFS object id (sha256) and size.</summary>
public sealed record HubFileInfo(string Repo, string Path, long Size, string Sha256)
{
    public string Name => $"{Repo}/{Path}";
}

/// <summary>
/// The few Hugging Face hub endpoints a pull needs: the tree listing (<c>/api/models/{repo}/tree/main</c>), HEAD on
/// <c>/{repo}/resolve/main/{file}</c> (the LFS sha256 and size ride on the redirect as <c>X-Linked-Etag</c> and
/// <c>X-Linked-Size</c>, as huggingface_hub reads them) and GET on it, redirects followed by hand so the token goes
/// to the hub only, never to the CDN it redirects to.
/// </summary>
public sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private readonly HttpClient _http;
    private readonly HubOptions _options;

    public HubClient(HubOptions options, HttpMessageHandler? handler = null)
    {
        _options = options;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(30) })
        {
            Timeout = TimeSpan.FromSeconds(100), // until the headers; a body read is watched by the downloader's idle timeout
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("frugal", "1.0"));
    }

    public Uri Endpoint => _options.Endpoint;

    /// <summary>Every file of the repository's main branch, sub-folders included.</summary>
    public async Task<IReadOnlyList<HubFile>> ListFilesAsync(string repo, CancellationToken cancellationToken = default)
    {
        var files = new List<HubFile>();
        Uri? next = Url($"api/models/{repo}/tree/main?recursive=true");
        while (next is not null)
        {
            using var response = await SendAsync(HttpMethod.Get, next, 0, follow: true, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw Failure(response, repo, null);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var doc = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new HubException($"{_options.Endpoint} answered the file listing of {repo} with something that is not a JSON array");
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.TryGetProperty("type", out var type) && type.GetString() != "file") continue;
                if (!e.TryGetProperty("path", out var path) || path.GetString() is not { } p) continue;
                long size = e.TryGetProperty("lfs", out var lfs) && lfs.TryGetProperty("size", out var ls) ? ls.GetInt64()
                    : e.TryGetProperty("size", out var s) ? s.GetInt64() : 0;
                files.Add(new HubFile(p, size));
            }
            next = NextPage(response, next);
        }
        return files;
    }

    /// <summary>HEAD on the file's resolve URL: its sha256 and size, without downloading it.</summary>
    public async Task<HubFileInfo> GetFileInfoAsync(string repo, string path, CancellationToken cancellationToken = default)
    {
        Uri url = ResolveUrl(repo, path);
        for (int hop = 0; ; hop++)
        {
            using var response = await SendAsync(HttpMethod.Head, url, 0, follow: false, cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is >= 400) throw Failure(response, repo, path);
            string? etag = Header(response, "X-Linked-Etag") ?? (status < 300 ? Header(response, "ETag") : null);
            string? size = Header(response, "X-Linked-Size") ?? (status < 300 ? response.Content.Headers.ContentLength?.ToString() : null);
            if (etag is not null && size is not null)
            {
                string sha = etag.Replace("W/", "", StringComparison.Ordinal).Trim('"').ToLowerInvariant();
                if (sha.Length != 64 || !sha.All(char.IsAsciiHexDigitLower))
                    throw new HubException($"{repo}/{path} is not stored with LFS (its ETag '{etag}' is no sha256), so it cannot be verified");
                if (!long.TryParse(size, out long bytes) || bytes < 0)
                    throw new HubException($"{_options.Endpoint} gave {repo}/{path} an unreadable size '{size}'");
                return new HubFileInfo(repo, path, bytes, sha);
            }
            // A redirect without the LFS headers is the hub's own (a renamed repository): follow it on the hub.
            if (status is >= 300 and < 400 && response.Headers.Location is { } location && hop < MaxRedirects
                && SameOrigin(new Uri(url, location), _options.Endpoint))
            {
                url = new Uri(url, location);
                continue;
            }
            throw new HubException($"{_options.Endpoint} gave no sha256 (X-Linked-Etag) for {repo}/{path} (HTTP {status}), so it cannot be verified");
        }
    }

    /// <summary>GET on the file from byte <paramref name="from"/> on (a Range request when above 0), redirects followed.</summary>
    /// <remarks>The caller owns the response and checks its status (206, 200 when the server ignored the range, 416).</remarks>
    public async Task<HttpResponseMessage> OpenAsync(string repo, string path, long from, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(HttpMethod.Get, ResolveUrl(repo, path), from, follow: true, cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode >= 400 && response.StatusCode != HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            using (response) throw Failure(response, repo, path);
        }
        return response;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, long from, bool follow, CancellationToken cancellationToken)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            if (_options.Token is not null && SameOrigin(url, _options.Endpoint))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
            if (from > 0) request.Headers.Range = new RangeHeaderValue(from, null);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new HubException($"cannot reach {url.GetLeftPart(UriPartial.Authority)}: {e.Message} (check the network, or set HF_ENDPOINT to a mirror)", e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new HubException($"{url.GetLeftPart(UriPartial.Authority)} did not answer within {_http.Timeout.TotalSeconds:F0} s", e);
            }
            int status = (int)response.StatusCode;
            if (!follow || status is < 300 or >= 400 || response.Headers.Location is null) return response;
            response.Dispose();
            if (hop >= MaxRedirects) throw new HubException($"more than {MaxRedirects} redirects from {url}");
            url = new Uri(url, response.Headers.Location);
        }
    }

    /// <summary>The error the user sees for a refused request, from the status and the hub's X-Error-Code.</summary>
    private HubException Failure(HttpResponseMessage response, string repo, string? path)
    {
        string? code = Header(response, "X-Error-Code");
        string site = _options.Endpoint.ToString().TrimEnd('/');
        string what = path is null ? repo : $"{repo}/{path}";
        return ((int)response.StatusCode, code) switch
        {
            (_, "GatedRepo") => new HubException(_options.Token is null
                ? $"{repo} is a gated repository: accept its terms at {site}/{repo} and set HF_TOKEN to an access token of that account"
                : $"{repo} is a gated repository and HF_TOKEN has no access to it: accept its terms at {site}/{repo} with the token's account"),
            (_, "RepoNotFound") => new HubException($"repository '{repo}' not found on {site}" +
                (_options.Token is null ? " (if it is private, set HF_TOKEN)" : "")),
            (_, "EntryNotFound") => new HubException($"file '{path}' not found in {repo} on {site}"),
            (_, "RevisionNotFound") => new HubException($"{repo} has no 'main' branch on {site}"),
            (401 or 403, _) => new HubException(_options.Token is null
                ? $"{site} refused access to {what} (HTTP {(int)response.StatusCode}): it is gated or private; set HF_TOKEN to an access token that can read it"
                : $"{site} refused HF_TOKEN for {what} (HTTP {(int)response.StatusCode}): check the token and that its account can read the repository"),
            (404, _) => new HubException(path is null ? $"repository '{repo}' not found on {site}" : $"'{what}' not found on {site} (no such repository or file)"),
            _ => new HubException($"{site} answered HTTP {(int)response.StatusCode} ({response.ReasonPhrase}) for {what}" +
                (Header(response, "X-Error-Message") is { } m ? $": {m}" : "")),
        };
    }

    private Uri Url(string relative) => new(new Uri(_options.Endpoint.ToString().TrimEnd('/') + "/"), relative);

    private Uri ResolveUrl(string repo, string path) =>
        Url($"{repo}/resolve/main/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;

    /// <summary>The hub pages long listings with <c>Link: &lt;url&gt;; rel="next"</c>.</summary>
    private static Uri? NextPage(HttpResponseMessage response, Uri current)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            var parts = link.Split(';', StringSplitOptions.TrimEntries);
            if (parts.Length >= 2 && parts.Skip(1).Any(p => p.Replace(" ", "", StringComparison.Ordinal) is "rel=\"next\"" or "rel=next"))
                return new Uri(current, parts[0].Trim('<', '>'));
        }
        return null;
    }

    public void Dispose() => _http.Dispose();
}
