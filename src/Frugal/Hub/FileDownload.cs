using System.Net;
using System.Security.Cryptography;

namespace Frugal.Hub;

/// <summary>
/// Brings one file into a partial file and checks it: resumes what is already there with an HTTP Range request,
/// resumes again after a dropped connection (up to <see cref="HubOptions.Retries"/> times without progress), and leaves
/// the partial file in place when it gives up or is cancelled, so the next pull goes on from there. A file whose sha256
/// is not the hub's LFS object id is deleted.
/// </summary>
internal static class FileDownload
{
    private const int BufferBytes = 1 << 16;
    private const long FlushEveryBytes = 1 << 20;

    /// <summary>Downloads (or finishes) <paramref name="partialPath"/> and verifies it; returns with a verified file there.</summary>
    public static async Task RunAsync(HubClient client, HubFileInfo info, string partialPath, HubOptions options,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(partialPath)!);
        using var held = Lock(info, partialPath);
        long have = File.Exists(partialPath) ? new FileInfo(partialPath).Length : 0;
        if (have > info.Size)
        {
            File.Delete(partialPath); // longer than the file: not a prefix of it
            have = 0;
        }
        long resumedFrom = have;
        int failures = 0;
        while (have < info.Size)
        {
            long before = have;
            try
            {
                have = await FetchAsync(client, info, partialPath, have, options, p => progress?.Report(
                    new DownloadProgress(info.Name, DownloadPhase.Downloading, p, info.Size, resumedFrom, failures)), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException && e is not HubException && !cancellationToken.IsCancellationRequested)
            {
                have = File.Exists(partialPath) ? new FileInfo(partialPath).Length : 0;
                failures = have > before ? 1 : failures + 1;
                if (failures > options.Retries)
                    throw new HubException($"the download of {info.Name} stopped at {have} of {info.Size} bytes ({e.Message}); " +
                        "run the same command again to resume it", e);
                progress?.Report(new DownloadProgress(info.Name, DownloadPhase.Downloading, have, info.Size, resumedFrom, failures));
                await Task.Delay(options.RetryDelay * failures, cancellationToken).ConfigureAwait(false);
            }
        }
        await VerifyAsync(info, partialPath, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Holds <c>{partial}.lock</c> exclusively while this process writes the partial file: two pulls of one file (two
    /// terminals, a server and a CLI) would otherwise append to it at once and spoil it.
    /// </summary>
    private static FileStream Lock(HubFileInfo info, string partialPath)
    {
        string path = partialPath + ".lock";
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e)
        {
            throw new HubException($"another pull is downloading {info.Name} right now (it holds {path}); wait for it to finish", e);
        }
    }

    /// <summary>One GET from <paramref name="from"/> appended to the partial file; returns its length afterwards.</summary>
    private static async Task<long> FetchAsync(HubClient client, HubFileInfo info, string partialPath, long from, HubOptions options,
        Action<long> report, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(options.IdleTimeout);
        try
        {
            return await FetchCoreAsync(client, info, partialPath, from, options, report, idle, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"no data for {options.IdleTimeout.TotalSeconds:F0} s", e);
        }
    }

    private static async Task<long> FetchCoreAsync(HubClient client, HubFileInfo info, string partialPath, long from, HubOptions options,
        Action<long> report, CancellationTokenSource idle, CancellationToken cancellationToken)
    {
        using var response = await client.OpenAsync(info.Repo, info.Path, from, idle.Token).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(partialPath); // the server has no byte `from`: the partial is not a prefix of this file
            throw new IOException($"the server refused to resume at byte {from}; starting over");
        }
        if (!response.IsSuccessStatusCode)
            throw new HubException($"{client.Endpoint} answered HTTP {(int)response.StatusCode} to the download of {info.Name}");
        if (response.StatusCode == HttpStatusCode.OK) from = 0; // the range was ignored: the body is the whole file
        else if (response.Content.Headers.ContentRange?.From is { } start && start != from)
            throw new HubException($"asked {client.Endpoint} for {info.Name} from byte {from}, it sent from byte {start}");

        await using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
        await using var file = new FileStream(partialPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, BufferBytes);
        file.SetLength(from);
        file.Position = from;
        var buffer = new byte[BufferBytes];
        long done = from, flushed = from;
        report(done);
        while (done < info.Size)
        {
            idle.CancelAfter(options.IdleTimeout);
            int n = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, info.Size - done)), idle.Token).ConfigureAwait(false);
            if (n == 0) throw new IOException($"the connection closed after {done} of {info.Size} bytes");
            await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            done += n;
            if (done - flushed >= FlushEveryBytes)
            {
                await file.FlushAsync(cancellationToken).ConfigureAwait(false); // bounds what a killed process loses
                flushed = done;
            }
            report(done);
        }
        return done;
    }

    private static async Task VerifyAsync(HubFileInfo info, string partialPath, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = new FileStream(partialPath, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, useAsync: true))
        {
            var buffer = new byte[1 << 20];
            long done = 0;
            for (int n; (n = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0;)
            {
                sha.AppendData(buffer, 0, n);
                done += n;
                progress?.Report(new DownloadProgress(info.Name, DownloadPhase.Verifying, done, info.Size, 0, 0));
            }
        }
        string actual = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (actual != info.Sha256)
        {
            File.Delete(partialPath);
            throw new HubException($"{info.Name} failed its check: its sha256 is {actual}, the hub's LFS object id is {info.Sha256}; " +
                "the download was discarded and the cache is unchanged");
        }
    }

    /// <summary>The sha256 of a file already on disk (a cached file the manifest does not know).</summary>
    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
    }
}
