using LLama.Native;

namespace Frugal.Bench;

/// <summary>
/// Loads llama.cpp once, quietly. LLamaSharp resolves its native library in NativeApi's static constructor, which a
/// first call such as LLamaQuantizer.Quantize does not run: without this, that call fails with DllNotFoundException.
/// </summary>
internal static class LlamaCppNative
{
    private static readonly System.Collections.Concurrent.ConcurrentQueue<string> AttentionLog = new();

    private static readonly Lazy<bool> Loaded = new(() =>
    {
        // Before the first native call. Quiet, but keeps the lines that say which attention path and KV types a
        // context resolved to (flash attention "auto" is settled only when the context is made).
        NativeLibraryConfig.All.WithLogCallback((_, message) =>
        {
            if (message is null) return;
            if (message.Contains("flash_attn", StringComparison.OrdinalIgnoreCase) || message.Contains("Flash Attention", StringComparison.OrdinalIgnoreCase)
                || message.Contains("K (", StringComparison.Ordinal))
                AttentionLog.Enqueue(message.Trim());
        });
        NativeApi.llama_empty_call();
        return true;
    });

    public static void EnsureLoaded() => _ = Loaded.Value;

    /// <summary>llama.cpp's log lines about flash attention and KV cache types since the last call, oldest first.</summary>
    public static IReadOnlyList<string> TakeAttentionLog()
    {
        var lines = new List<string>();
        while (AttentionLog.TryDequeue(out string? line))
            lines.Add(line);
        return lines;
    }
}
