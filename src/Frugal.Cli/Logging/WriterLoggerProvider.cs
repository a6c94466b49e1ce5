using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Frugal.Cli.Logging;

/// <summary>
/// Log entries written to a <see cref="TextWriter"/> (the CLI's stderr) by the console logger's own formatters: the
/// simple one on one line (<c>--log-format text</c>) or the JSON one, one object per line (<c>--log-format json</c>).
/// Not the console logger itself: it writes to the process console from a queue of its own, while the CLI writes
/// through <see cref="CliContext.Error"/> (string writers in tests).
/// </summary>
internal sealed class WriterLoggerProvider : ILoggerProvider
{
    private const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
    private readonly ServiceProvider _formatters;
    private readonly ConsoleFormatter _formatter;
    private readonly TextWriter _writer;

    public WriterLoggerProvider(TextWriter writer, LogFormat format)
    {
        _writer = writer;
        _formatters = new ServiceCollection().AddLogging(b =>
        {
            b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.ColorBehavior = LoggerColorBehavior.Disabled;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = TimestampFormat + " ";
            });
            b.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = TimestampFormat;
            });
        }).BuildServiceProvider();
        string name = format == LogFormat.Json ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple;
        _formatter = _formatters.GetServices<ConsoleFormatter>().First(f => f.Name == name);
    }

    public ILogger CreateLogger(string categoryName) => new WriterLogger(this, categoryName);

    public void Dispose() => _formatters.Dispose();

    private sealed class WriterLogger(WriterLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var entry = new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter);
            using var line = new StringWriter();
            provider._formatter.Write(in entry, null, line);
            if (line.GetStringBuilder().Length == 0) return;
            lock (provider._writer)
            {
                provider._writer.Write(line.ToString());
                provider._writer.Flush();
            }
        }
    }
}

/// <summary>How <c>frugal serve</c> writes its log: text lines, or one JSON object per line.</summary>
internal enum LogFormat
{
    Text,
    Json,
}
