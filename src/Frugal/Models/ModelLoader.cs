using Frugal.Gguf;

namespace Frugal.Models;

/// <summary>Builds the model a GGUF file describes, choosing the architecture by general.architecture.</summary>
public static class ModelLoader
{
    /// <summary>
    /// Builds the model over <paramref name="file"/>'s memory. The model does not own the file: keep the file open
    /// while the model is used and dispose it after.
    /// </summary>
    /// <exception cref="NotSupportedException">unknown architecture, or a tensor type with no kernel (both named).</exception>
    /// <exception cref="ModelFormatException">a tensor or key is missing or has the wrong shape (named).</exception>
    public static ILanguageModel Load(GgufFile file) => ArchitectureRegistry.Load(file, ModelLoadOptions.Default);

    /// <summary>As <see cref="Load(GgufFile)"/>, with a memory budget for the weights (<see cref="ModelLoadOptions"/>).</summary>
    /// <exception cref="ArgumentException">the budget cannot hold even the norms and the stream buffers (ParamName MemoryBudget; the message names the smallest workable budget).</exception>
    public static ILanguageModel Load(GgufFile file, ModelLoadOptions options) => ArchitectureRegistry.Load(file, options ?? ModelLoadOptions.Default);

    /// <summary>Opens (memory-maps) <paramref name="path"/> and builds its model; disposing the model closes the file.</summary>
    public static ILanguageModel Load(string path, ModelLoadOptions? options = null)
    {
        var file = GgufFile.Open(path);
        try
        {
            var model = (DecoderTransformer)ArchitectureRegistry.Load(file, options ?? ModelLoadOptions.Default);
            return model.Owning(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
