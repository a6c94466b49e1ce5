namespace Frugal.Hub;

public enum DownloadPhase
{
    /// <summary>Bytes are arriving; <see cref="DownloadProgress.Done"/> counts those already on disk, resumed ones included.</summary>
    Downloading,

    /// <summary>The finished file's sha256 is being computed.</summary>
    Verifying,
}

/// <summary>One progress report of a pull: <paramref name="File"/> is <c>owner/repo/path</c>.</summary>
/// <param name="ResumedFrom">bytes that were already in the partial file when this pull started.</param>
/// <param name="Retry">how many times this pull has resumed after a drop (0 = none yet).</param>
public readonly record struct DownloadProgress(string File, DownloadPhase Phase, long Done, long Total, long ResumedFrom, int Retry);
