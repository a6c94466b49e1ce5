using Frugal.Gguf;
using Frugal.Models;
using Frugal.Tokenization;

namespace Frugal.Cli;

/// <summary>A problem with what the user asked for (a bad option value, a missing argument): message only, exit 1.</summary>
public sealed class CliError(string message) : Exception(message);

/// <summary>Turns the exceptions a user can cause into one "error: ..." line on stderr and an exit code.</summary>
internal static class CliErrors
{
    public const int Failure = 1;
    public const int Cancelled = 130; // what shells report for SIGINT

    public static int Guard(CliContext context, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (OperationCanceledException)
        {
            context.Error.WriteLine("cancelled");
            return Cancelled;
        }
        catch (Exception e) when (IsUserError(e))
        {
            context.Error.WriteLine($"error: {Message(e)}");
            return Failure;
        }
        catch (Exception e)
        {
            // Not the user's fault: still no stack trace on the console, but say that it is a bug.
            context.Error.WriteLine($"error: internal error ({e.GetType().Name}): {e.Message}");
            return Failure;
        }
    }

    /// <summary>The message without .NET's " (Parameter 'x')" suffix, which means nothing to a command-line user.</summary>
    private static string Message(Exception e) => e is ArgumentException { ParamName: { } p }
        ? e.Message.Replace($" (Parameter '{p}')", "", StringComparison.Ordinal)
        : e.Message;

    private static bool IsUserError(Exception e) => e is CliError or GgufFormatException or ModelFormatException or TokenizerFormatException or FileNotFoundException
        or DirectoryNotFoundException or UnauthorizedAccessException or IOException or NotSupportedException
        or ArgumentException or KeyNotFoundException or InvalidCastException or InvalidDataException;
}
