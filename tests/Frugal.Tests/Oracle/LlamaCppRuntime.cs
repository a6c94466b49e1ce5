using LLama.Native;

namespace Frugal.Tests.Oracle;

/// <summary>
/// llama.cpp (bundled by LLamaSharp.Backend.Cpu) is the test oracle. Native library configuration must happen
/// once per process before the first native call, so every oracle goes through <see cref="EnsureLoaded"/>.
/// </summary>
public static class LlamaCppRuntime
{
    private static readonly Lazy<bool> Loaded = new(() =>
    {
        // Silence llama.cpp's own logging; test output should show our assertions, not its load chatter.
        NativeLibraryConfig.All.WithLogCallback((level, message) => { });
        NativeApi.llama_empty_call();
        return true;
    });

    public static void EnsureLoaded() => _ = Loaded.Value;

    /// <summary>Directory holding the libggml-base.so / libllama.so that LLamaSharp picked for this CPU.</summary>
    public static string NativeDirectory
    {
        get
        {
            EnsureLoaded();
            string root = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
            foreach (var level in new[] { "avx512", "avx2", "avx", "noavx" })
            {
                string dir = Path.Combine(root, level);
                if (File.Exists(Path.Combine(dir, "libggml-base.so")) && IsLoaded(Path.Combine(dir, "libllama.so")))
                    return dir;
            }
            return Path.Combine(root, "noavx");
        }
    }

    private static bool IsLoaded(string path)
    {
        try
        {
            return File.ReadAllText("/proc/self/maps").Contains(path, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
