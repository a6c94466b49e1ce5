using Frugal.Models.Synthetic;

namespace Frugal.Cli.Commands;

/// <summary>
/// The small random-weight model behind <c>frugal run --demo</c>: written once into a cache folder, then reused.
/// </summary>
internal static class DemoModel
{
    public const string FileName = "frugal-demo-random-llama.gguf";

    /// <summary>The demo model's path, writing it first if this machine has none yet.</summary>
    public static string EnsureFile(string directory, TextWriter log)
    {
        string path = Path.Combine(directory, FileName);
        if (File.Exists(path)) return path;
        Directory.CreateDirectory(directory);
        // Written under a temporary name and moved, so an interrupted write never leaves a half file that looks ready.
        string partial = path + $".{Environment.ProcessId}.partial";
        try
        {
            WriteSyntheticDemoModel(partial);
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
        }
        log.WriteLine($"wrote the demo model (random weights) to {path}");
        return path;
    }

    /// <summary>A small random-weight Llama-3-shaped GGUF with a SentencePiece vocabulary llama.cpp also loads.</summary>
    internal static void WriteSyntheticDemoModel(string path) =>
        SyntheticModelWriter.Write(SyntheticModelSpec.Tiny(SyntheticFamily.Llama3), path);
}
