using System.Collections.Concurrent;
using Frugal.Gguf;
using Frugal.Models.Synthetic;

namespace Frugal.Tests.Models;

/// <summary>
/// Synthetic GGUF fixtures written once per test process into a private temporary folder (removed at exit),
/// so every test class can share a file instead of rewriting it.
/// </summary>
public static class SyntheticFixtures
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Files = new();

    public static string Directory { get; } = CreateDirectory();

    /// <summary>The path of the file <paramref name="spec"/> describes, written on first use.</summary>
    public static string PathOf(SyntheticModelSpec spec) =>
        Files.GetOrAdd(spec.Name, _ => new Lazy<string>(() =>
        {
            string path = Path.Combine(Directory, spec.Name + ".gguf");
            SyntheticModelWriter.Write(spec, path);
            return path;
        })).Value;

    /// <summary>A fresh path in the fixture folder for a file a test derives itself.</summary>
    public static string NewPath(string name) => Path.Combine(Directory, $"{name}-{Guid.NewGuid():N}.gguf");

    /// <summary>
    /// Copies a GGUF file with changes: metadata values replaced (null removes the key), tensors dropped or
    /// re-typed. Used to build the malformed files that error tests need.
    /// </summary>
    public static byte[] Rewrite(string source, IReadOnlyDictionary<string, GgufValue?>? metadata = null,
        Func<GgufTensorInfo, (Numerics.GgmlType Type, long[] Dims, byte[] Data)?>? tensor = null,
        Func<string, string>? renameKey = null)
    {
        using var file = GgufFile.Open(source);
        var w = new GgufWriter();
        foreach (var key in file.MetadataKeys)
        {
            if (metadata is not null && metadata.TryGetValue(key, out var replacement))
            {
                if (replacement is not null) w.Add(renameKey?.Invoke(key) ?? key, replacement);
                continue;
            }
            w.Add(renameKey?.Invoke(key) ?? key, file.Metadata[key]);
        }
        if (metadata is not null)
            foreach (var (key, value) in metadata)
                if (value is not null && !file.Metadata.ContainsKey(key)) w.Add(key, value);
        foreach (var t in file.Tensors)
        {
            if (tensor is null)
            {
                w.AddTensor(t.Name, t.Type, t.Dimensions, file.GetTensorBytes(t).ToArray());
                continue;
            }
            var changed = tensor(t);
            if (changed is { } c) w.AddTensor(t.Name, c.Type, c.Dims, c.Data);
        }
        return w.ToArray();
    }

    private static string CreateDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"frugal-model-tests-{Environment.ProcessId}");
        System.IO.Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { System.IO.Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return dir;
    }
}
