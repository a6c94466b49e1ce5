using System.CommandLine;
using Frugal.Gguf;

namespace Frugal.Cli.Commands;

internal static class CommonArguments
{
    public static Argument<string> Model() => new("MODEL") { Description = HubModels.ModelHelp };

    public static Option<bool> Json() => new("--json") { Description = "print one JSON object instead of text" };

    /// <summary>Opens a model file; a missing file or a malformed one raises the exception the user sees.</summary>
    public static GgufFile Open(string path) => GgufFile.Open(path);
}
