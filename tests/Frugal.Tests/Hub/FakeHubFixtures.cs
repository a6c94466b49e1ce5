using Frugal.Models.Synthetic;

namespace Frugal.Tools.Hub;

/// <summary>The tests' half of <see cref="FakeHub"/> (its server is linked from tools/FakeHub): GGUF files to publish.</summary>
internal sealed partial class FakeHub
{
    /// <summary>A small GGUF written by the project's writer: a random-weight Llama-3-shaped model (about 1.5 MB).</summary>
    public static byte[] TinyModel(int seed)
    {
        string path = Path.Combine(Path.GetTempPath(), $"frugal-hub-fixture-{Guid.NewGuid():N}.gguf");
        try
        {
            SyntheticModelWriter.Write(SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, seed: seed) with { ContextLength = 256 }, path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
