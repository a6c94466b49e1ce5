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

    /// <summary>
    /// THE single call site for the synthetic-model writer (src/Frugal/Models/Synthetic, added by the model work):
    /// write a small random-weight Llama-family GGUF with a tokenizer to <paramref name="path"/>. Until it is
    /// connected, <c>run --demo</c> fails with this message.
    /// </summary>
    internal static void WriteSyntheticDemoModel(string path) =>
        throw new NotSupportedException("run --demo needs the synthetic-model writer (Frugal.Models.Synthetic), which is not in this build yet");
}
