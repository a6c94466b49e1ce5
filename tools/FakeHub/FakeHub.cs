using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Frugal.Tools.Hub;

/// <summary>
/// A Hugging Face hub on 127.0.0.1 (Kestrel; port 0 picks a free one) speaking the endpoints a pull uses:
/// <c>/api/models/{repo}/tree/main</c>, HEAD and GET on <c>/{repo}/resolve/main/{file}</c> answered with a 302 to a
/// "CDN" path and the LFS headers (<c>X-Linked-Etag</c>, <c>X-Linked-Size</c>), Range requests on the CDN, 401 with
/// <c>X-Error-Code: GatedRepo</c> for a gated repository without the token, 404 with RepoNotFound / EntryNotFound.
/// It counts the file bytes it sends and can drop a connection part-way through a file.
/// One implementation for two users: the hub tests link this file (tests/Frugal.Tests/Hub), and the FakeHub program
/// (Program.cs here) serves GGUF files with it for tools/ci/pack-smoke.sh's install, pull and run check.
/// </summary>
internal sealed partial class FakeHub : IAsyncDisposable
{
    public const string Token = "hf_test_token";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Repo> _repos = new();
    private readonly ConcurrentDictionary<string, StoredFile> _cdn = new();
    private long _bytesServed;
    private long _dropAfter = -1;
    private long _stallAt = -1;

    private sealed record Repo(bool Gated, ConcurrentDictionary<string, StoredFile> Files);

    private sealed record StoredFile(string Path, byte[] Content, string Sha256, string Id);

    private FakeHub(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>When set, resolve redirects to this host (same port) instead of a relative path: a CDN of another origin.</summary>
    public string? CdnHost { get; set; }

    /// <summary>"METHOD path [range] [auth]" of every request, in order; " auth" marks one that carried an Authorization header.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>File bytes sent by the CDN path, over all requests.</summary>
    public long BytesServed => Interlocked.Read(ref _bytesServed);

    /// <summary>The next CDN response sends the file up to this byte offset, then waits until the client goes away.</summary>
    public void StallNextDownloadAt(long offset) => Interlocked.Exchange(ref _stallAt, offset);

    /// <summary>The next CDN response sends the file only up to this byte offset, then the connection is dropped.</summary>
    public void DropNextDownloadAt(long offset) => Interlocked.Exchange(ref _dropAfter, offset);

    public static async Task<FakeHub> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        FakeHub? hub = null;
        app.Run(c => hub!.HandleAsync(c));
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        hub = new FakeHub(app, new Uri(bound));
        return hub;
    }

    /// <summary>Publishes a file; <paramref name="advertisedSha256"/> overrides the hash the hub claims (a corrupt upload).</summary>
    public void Add(string repo, string path, byte[] content, bool gated = false, string? advertisedSha256 = null)
    {
        var r = _repos.GetOrAdd(repo, _ => new Repo(gated, new ConcurrentDictionary<string, StoredFile>()));
        var file = new StoredFile(path, content, advertisedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(content)), Guid.NewGuid().ToString("N"));
        r.Files[path] = file;
        _cdn[file.Id] = file;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private async Task HandleAsync(HttpContext c)
    {
        string path = c.Request.Path.Value ?? "/";
        Requests.Enqueue($"{c.Request.Method} {path}{(c.Request.Headers.Range.Count > 0 ? " " + c.Request.Headers.Range : "")}" +
            (c.Request.Headers.Authorization.Count > 0 ? " auth" : ""));
        var parts = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        if (parts.Length >= 2 && parts[0] == "cdn") await ServeFileAsync(c, parts[1]);
        else if (parts.Length == 6 && parts[0] == "api" && parts[1] == "models" && parts[4] == "tree" && parts[5] == "main")
            await ListAsync(c, $"{parts[2]}/{parts[3]}");
        else if (parts.Length >= 5 && parts[2] == "resolve" && parts[3] == "main")
            Resolve(c, $"{parts[0]}/{parts[1]}", string.Join('/', parts[4..]));
        else c.Response.StatusCode = 404;
    }

    private bool Refused(HttpContext c, string repo, out Repo found)
    {
        if (!_repos.TryGetValue(repo, out found!))
        {
            Error(c, 404, "RepoNotFound", "Repository not found");
            return true;
        }
        if (found.Gated && c.Request.Headers.Authorization != $"Bearer {Token}")
        {
            Error(c, 401, "GatedRepo", "Access to this model is restricted");
            return true;
        }
        return false;
    }

    private async Task ListAsync(HttpContext c, string repo)
    {
        if (Refused(c, repo, out var r)) return;
        var entries = r.Files.Values.OrderBy(f => f.Path).Select(f => (object)new
        {
            type = "file", oid = f.Id, size = f.Content.Length, path = f.Path,
            lfs = new { oid = f.Sha256, size = f.Content.Length, pointerSize = 134 },
        }).Append(new { type = "file", oid = "0", size = 12, path = "README.md" }).Append(new { type = "directory", oid = "1", size = 0, path = "docs" });
        c.Response.ContentType = "application/json";
        await c.Response.WriteAsync(JsonSerializer.Serialize(entries));
    }

    private void Resolve(HttpContext c, string repo, string file)
    {
        if (Refused(c, repo, out var r)) return;
        if (!r.Files.TryGetValue(file, out var f))
        {
            Error(c, 404, "EntryNotFound", $"{file} does not exist on \"main\"");
            return;
        }
        c.Response.StatusCode = 302;
        c.Response.Headers.Location = CdnHost is null ? $"/cdn/{f.Id}" : $"http://{CdnHost}:{Address.Port}/cdn/{f.Id}";
        c.Response.Headers["X-Linked-Etag"] = $"\"{f.Sha256}\"";
        c.Response.Headers["X-Linked-Size"] = f.Content.Length.ToString();
        c.Response.Headers.ETag = "\"0123456789abcdef\""; // the git blob id, as on the hub: not the hash to check
    }

    private async Task ServeFileAsync(HttpContext c, string id)
    {
        if (!_cdn.TryGetValue(id, out var f))
        {
            c.Response.StatusCode = 404;
            return;
        }
        long start = 0;
        string range = c.Request.Headers.Range.ToString();
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1]);
            if (start >= f.Content.Length)
            {
                c.Response.StatusCode = 416;
                c.Response.Headers.ContentRange = $"bytes */{f.Content.Length}";
                return;
            }
            c.Response.StatusCode = 206;
            c.Response.Headers.ContentRange = $"bytes {start}-{f.Content.Length - 1}/{f.Content.Length}";
        }
        c.Response.ContentLength = f.Content.Length - start;
        long dropAt = Interlocked.Exchange(ref _dropAfter, -1);
        long stallAt = Interlocked.Exchange(ref _stallAt, -1);
        long end = dropAt >= start ? dropAt : stallAt >= start ? stallAt : f.Content.Length;
        for (long at = start; at < end;)
        {
            int n = (int)Math.Min(16 * 1024, end - at);
            await c.Response.Body.WriteAsync(f.Content.AsMemory((int)at, n));
            Interlocked.Add(ref _bytesServed, n);
            at += n;
        }
        if (stallAt >= start)
        {
            await c.Response.Body.FlushAsync();
            try { await Task.Delay(Timeout.Infinite, c.RequestAborted); } catch (OperationCanceledException) { }
            return;
        }
        // Stopping short of Content-Length makes Kestrel close the connection after what was written, as a dropped
        // connection looks to the client; c.Abort() would also throw away bytes still in the send buffers.
    }

    private static void Error(HttpContext c, int status, string code, string message)
    {
        c.Response.StatusCode = status;
        c.Response.Headers["X-Error-Code"] = code;
        c.Response.Headers["X-Error-Message"] = message;
    }

    /// <summary>Completes when the host is told to stop (Ctrl-C, SIGTERM).</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
