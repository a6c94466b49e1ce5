using System.Globalization;
using Frugal.Hub;
using Spectre.Console;

namespace Frugal.Cli.Commands;

/// <summary>
/// MODEL arguments on the command line: a path, or a Hugging Face reference resolved through the library's
/// <see cref="ModelPuller"/> (cache first, else pulled with a progress bar on stderr).
/// </summary>
internal static class HubModels
{
    public const string ModelHelp = "GGUF file path, or a Hugging Face reference: owner/repo, owner/repo:QUANT or owner/repo/file.gguf";

    public static ModelPuller Puller(CliContext context) => new(HubOptions.FromEnvironment(context.GetEnvironmentVariable));

    /// <summary>The local file a MODEL argument names, pulling it first when it is a reference not in the cache.</summary>
    public static string Resolve(CliContext context, string model)
    {
        var reference = ModelReference.Parse(model);
        if (reference.LocalPath is { } path) return path;
        using var puller = Puller(context);
        if (puller.Cache.Find(reference) is { } cached) return cached;
        var result = WithProgress(context, progress => puller.PullAsync(reference, progress, context.Cancellation));
        context.Error.WriteLine(Describe(result));
        return result.Path;
    }

    public static string Describe(PullResult r) => r.Downloaded
        ? $"pulled {r.Reference} ({Bytes(r.Size)}, sha256 {r.Sha256[..12]} verified) into {r.Path}"
        : $"{r.Reference} is up to date ({Bytes(r.Size)}, sha256 {r.Sha256[..12]}) at {r.Path}";

    /// <summary>Runs a pull under a Spectre.Console progress display on stderr: bar, bytes, rate and time left.</summary>
    public static T WithProgress<T>(CliContext context, Func<IProgress<DownloadProgress>, Task<T>> pull)
    {
        bool terminal = ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(context.Error),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(ctx => pull(new SpectreProgress(ctx)).GetAwaiter().GetResult());
    }

    public static string Bytes(long n) => n switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{n / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{n / (double)(1L << 20):F2} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{n / 1024.0:F1} KiB"),
        _ => $"{n} B",
    };

    /// <summary>One bar for the download and one for the sha256 check, updated in place as reports arrive.</summary>
    private sealed class SpectreProgress(ProgressContext context) : IProgress<DownloadProgress>
    {
        private ProgressTask? _download, _verify;

        public void Report(DownloadProgress p)
        {
            string name = Markup.Escape(p.File);
            if (p.Phase == DownloadPhase.Verifying)
            {
                _download?.StopTask();
                _verify ??= context.AddTask($"sha256 {name}", maxValue: p.Total);
                _verify.Value = p.Done;
                if (p.Done >= p.Total) _verify.StopTask();
                return;
            }
            if (_download is null)
            {
                // Bytes resumed from an earlier pull start the bar where it stopped; the rate counts only new bytes.
                _download = context.AddTask(name, autoStart: false, maxValue: p.Total);
                _download.Value = p.ResumedFrom;
                _download.StartTask();
                if (p.ResumedFrom > 0) _download.Description = $"{name} (resumed at {Bytes(p.ResumedFrom)})";
            }
            if (p.Retry > 0) _download.Description = $"{name} (connection dropped, resuming: try {p.Retry})";
            _download.Value = p.Done;
        }
    }
}
