using LLama.Native;

namespace Frugal.Bench;

/// <summary>
/// Loads llama.cpp once, quietly. LLamaSharp resolves its native library in NativeApi's static constructor, which a
/// first call such as LLamaQuantizer.Quantize does not run: without this, that call fails with DllNotFoundException.
/// </summary>
internal static class LlamaCppNative
{
    private static readonly Lazy<bool> Loaded = new(() =>
    {
        NativeLibraryConfig.All.WithLogCallback((_, _) => { }); // before the first native call
        NativeApi.llama_empty_call();
        return true;
    });

    public static void EnsureLoaded() => _ = Loaded.Value;
}
