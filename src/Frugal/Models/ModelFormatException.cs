namespace Frugal.Models;

/// <summary>
/// A GGUF file parses but does not describe a model this engine can build: a tensor or metadata key is missing,
/// or a shape or value contradicts the hyper-parameters. The message names the file, the item and what was expected.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string? path, string item, string message)
        : base($"{(path is null ? "GGUF model" : $"model file '{path}'")}: {item}: {message}")
    {
        Item = item;
    }

    /// <summary>The tensor name or metadata key at fault.</summary>
    public string Item { get; }
}
