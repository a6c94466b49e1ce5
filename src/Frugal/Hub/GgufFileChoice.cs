using System.Text.RegularExpressions;

namespace Frugal.Hub;

/// <summary>A file of a repository as the hub's tree listing gives it.</summary>
public sealed record HubFile(string Path, long Size);

/// <summary>
/// Which GGUF file of a repository a reference means. <c>owner/repo:QUANT</c>: the one file whose name carries QUANT as a
/// whole token, case-insensitively (<c>Q4_K</c> does not match <c>Q4_K_M</c>). <c>owner/repo</c>: the first of
/// <see cref="Preferred"/> that matches (Q4_K_M is what Ollama and llama.cpp's <c>-hf</c> default to: a quarter of f16's
/// bytes at a small quality cost), else the repository's only GGUF, else its smallest. Vision projectors
/// (<c>mmproj</c>) are not language models and are never chosen; split files (<c>-00001-of-00003.gguf</c>) are refused.
/// </summary>
public static partial class GgufFileChoice
{
    public static readonly IReadOnlyList<string> Preferred = ["Q4_K_M", "Q4_0", "Q8_0"];

    /// <summary>True when <paramref name="path"/>'s file name holds <paramref name="quant"/> between non-name characters.</summary>
    public static bool MatchesQuant(string path, string quant)
    {
        string name = System.IO.Path.GetFileName(path);
        for (int at = name.IndexOf(quant, StringComparison.OrdinalIgnoreCase); at >= 0; at = name.IndexOf(quant, at + 1, StringComparison.OrdinalIgnoreCase))
        {
            int end = at + quant.Length;
            if ((at == 0 || !IsNameChar(name[at - 1])) && (end == name.Length || !IsNameChar(name[end]))) return true;
        }
        return false;
    }

    /// <exception cref="HubException">No file fits, or several do; the message lists the candidates.</exception>
    public static HubFile Choose(string repo, IReadOnlyList<HubFile> files, string? quant)
    {
        var ggufs = files.Where(f => f.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
            && !System.IO.Path.GetFileName(f.Path).Contains("mmproj", StringComparison.OrdinalIgnoreCase)).ToList();
        if (ggufs.Count == 0)
            throw new HubException($"{repo} has no GGUF model file{(files.Count == 0 ? "" : $" (it holds {List(files.Select(f => f.Path))})")}");
        if (quant is not null)
        {
            var matches = ggufs.Where(f => MatchesQuant(f.Path, quant)).ToList();
            if (matches.Count == 0)
                throw new HubException($"{repo} has no GGUF file for quant '{quant}' (it has {List(ggufs.Select(f => f.Path))})");
            return Single(repo, matches, quant);
        }
        foreach (var q in Preferred)
        {
            var matches = ggufs.Where(f => MatchesQuant(f.Path, q) && !IsSplit(f.Path)).ToList();
            if (matches.Count > 0) return Single(repo, matches, q);
        }
        var whole = ggufs.Where(f => !IsSplit(f.Path)).ToList();
        if (whole.Count == 0) return Single(repo, ggufs, "GGUF");
        return whole.OrderBy(f => f.Size).ThenBy(f => f.Path, StringComparer.Ordinal).First();
    }

    private static HubFile Single(string repo, List<HubFile> matches, string what)
    {
        if (matches.All(f => IsSplit(f.Path)))
            throw new HubException($"{repo}'s {what} model is split into {matches.Count} files ({List(matches.Select(f => f.Path))}); frugal reads single-file GGUFs only");
        matches = matches.Where(f => !IsSplit(f.Path)).ToList();
        if (matches.Count > 1)
            throw new HubException($"{repo} has {matches.Count} {what} files ({List(matches.Select(f => f.Path))}): name one as {repo}/FILE");
        return matches[0];
    }

    private static bool IsSplit(string path) => SplitSuffix().IsMatch(path);

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static string List(IEnumerable<string> paths)
    {
        var all = paths.ToList();
        return all.Count <= 8 ? string.Join(", ", all) : string.Join(", ", all.Take(8)) + $" and {all.Count - 8} more";
    }

    [GeneratedRegex(@"-\d{5}-of-\d{5}\.gguf$", RegexOptions.IgnoreCase)]
    private static partial Regex SplitSuffix();
}
