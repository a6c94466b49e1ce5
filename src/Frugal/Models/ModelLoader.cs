using Frugal.Gguf;

namespace Frugal.Models;

/// <summary>Builds the model a GGUF file describes, choosing the architecture by general.architecture.</summary>
public static class ModelLoader
{
    public static ILanguageModel Load(GgufFile file) =>
        throw new NotSupportedException($"architecture '{file.GetString("general.architecture")}' is not supported yet");
}
