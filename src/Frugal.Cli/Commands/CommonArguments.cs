using System.CommandLine;
using Frugal.Gguf;

namespace Frugal.Cli.Commands;

internal static class CommonArguments
{
    public static Argument<string> Model() => new("MODEL") { Description = HubModels.ModelHelp };

    /// <summary>A MODEL that may be left out: the built-in model then (see <see cref="ModelOrBuiltIn"/>).</summary>
    public static Argument<string?> OptionalModel() => new("MODEL") { Description = HubModels.ModelHelp + " (default: the built-in model)", Arity = ArgumentArity.ZeroOrOne };

    /// <summary>The MODEL given, or the built-in model when none was; a missing built-in model is a clear error.</summary>
    public static string ModelOrBuiltIn(CliContext context, string? path)
    {
        if (path is not null) return path;
        if (!File.Exists(context.DefaultModelPath))
            throw new CliError($"no MODEL given and the built-in model is missing at '{context.DefaultModelPath}': give the path of a GGUF file");
        return context.DefaultModelPath;
    }

    public static Option<bool> Json() => new("--json") { Description = "print one JSON object instead of text" };

    /// <summary>Opens a model file; a missing file or a malformed one raises the exception the user sees.</summary>
    public static GgufFile Open(string path) => GgufFile.Open(path);
}
