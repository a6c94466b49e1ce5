using System.Text.RegularExpressions;

namespace Frugal.Tests.Architecture;

/// <summary>
/// Keeps the layer table of DESIGN.md true: a layer of the library may use only the layers below it, and unsafe
/// code and intrinsics stay in Numerics (plus the mmap view in Gguf). Checked on the source text, so a stray
/// `using` fails the build's tests rather than a reviewer's eye.
/// </summary>
public partial class LayerDirectionTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Numerics"] = [],
        ["Hub"] = [], // downloads and caches model files; knows nothing of what they hold
        ["Gguf"] = ["Numerics"],
        ["Tokenization"] = ["Gguf", "Numerics"],
        ["Models"] = ["Numerics", "Gguf"],
        ["Inference"] = ["Numerics", "Gguf", "Tokenization", "Models"],
        ["Evaluation"] = ["Numerics", "Gguf", "Tokenization", "Models", "Inference"],
        ["Planning"] = ["Numerics", "Gguf", "Tokenization", "Models", "Inference"], // predicts memory and speed of a (model, machine, settings) triple
    };

    [Fact]
    public void Each_layer_uses_only_the_layers_below_it()
    {
        var violations = new List<string>();
        foreach (var (file, layer) in LibrarySources())
        {
            if (!Allowed.TryGetValue(layer, out var allowed))
            {
                violations.Add($"{file}: folder '{layer}' is not a layer of DESIGN.md's table");
                continue;
            }
            foreach (Match m in FrugalReference().Matches(File.ReadAllText(file)))
            {
                string used = m.Groups[1].Value;
                if (used != layer && Allowed.ContainsKey(used) && !allowed.Contains(used))
                    violations.Add($"{file}: {layer} uses {used}");
            }
        }
        Assert.Empty(violations);
    }

    [Fact]
    public void Unsafe_code_and_intrinsics_live_only_in_Numerics_and_Gguf()
    {
        var violations = LibrarySources()
            .Where(s => s.Layer is not ("Numerics" or "Gguf"))
            .Where(s => UnsafeUse().IsMatch(File.ReadAllText(s.File)))
            .Select(s => s.File)
            .ToList();
        Assert.Empty(violations);
    }

    [Fact]
    public void The_library_never_writes_to_the_console()
    {
        var violations = LibrarySources().Where(s => File.ReadAllText(s.File).Contains("Console.", StringComparison.Ordinal)).Select(s => s.File).ToList();
        Assert.Empty(violations);
    }

    private static IEnumerable<(string File, string Layer)> LibrarySources()
    {
        string root = Path.Combine(RepoRoot(), "src", "Frugal");
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar);
            if (rel[0] is "obj" or "bin" || rel.Length < 2) continue;
            yield return (file, rel[0]);
        }
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Frugal.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Frugal.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"\bFrugal\.(\w+)")]
    private static partial Regex FrugalReference();

    [GeneratedRegex(@"\bunsafe\b|System\.Runtime\.Intrinsics")]
    private static partial Regex UnsafeUse();
}
