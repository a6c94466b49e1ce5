using System.CommandLine;

namespace Frugal.Cli.Commands;

/// <summary>Where <c>run</c> takes its prompt from: <c>-p TEXT</c>, <c>-f FILE</c> (llama.cpp's <c>--file</c>), or standard input when it is piped.</summary>
internal static class PromptSource
{
    public static Option<string?> FileOption() => new("--file", "-f") { Description = "read the prompt from this file (UTF-8)" };

    /// <summary>The prompt, or null when none was given and nothing is piped in.</summary>
    public static string? Read(CliContext context, string? text, string? file)
    {
        if (text is not null && file is not null) throw new CliError("give either -p/--prompt or -f/--file, not both");
        if (text is not null) return text;
        if (file is not null)
        {
            if (Directory.Exists(file)) throw new CliError($"-f/--file: '{file}' is a directory, not a text file");
            if (!File.Exists(file)) throw new CliError($"-f/--file: prompt file not found: '{file}'");
            return WithoutFinalNewline(File.ReadAllText(file));
        }
        if (!context.InputRedirected) return null;
        string piped = WithoutFinalNewline(context.In.ReadToEnd());
        return piped.Length == 0 ? null : piped;
    }

    /// <summary>A file or `echo` ends with one newline that is not part of the prompt (llama.cpp drops it from --file too).</summary>
    private static string WithoutFinalNewline(string s) =>
        s.EndsWith("\r\n", StringComparison.Ordinal) ? s[..^2] : s.EndsWith('\n') ? s[..^1] : s;
}
