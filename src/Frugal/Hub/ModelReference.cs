using System.Text.RegularExpressions;

namespace Frugal.Hub;

/// <summary>
/// What a MODEL argument names: a local GGUF file, or a GGUF file in a Hugging Face repository, written as
/// <c>owner/repo</c> (the repository's preferred file), <c>owner/repo:QUANT</c> (a quant by name, as llama.cpp's
/// <c>-hf</c> and Ollama's <c>hf.co/</c> references) or <c>owner/repo/path/file.gguf</c>. An existing file always
/// wins, so a local path is never taken for a reference.
/// </summary>
public sealed partial record ModelReference
{
    private ModelReference(string text) => Text = text;

    /// <summary>The text as the user gave it.</summary>
    public string Text { get; }

    /// <summary>The local file named, or null for a hub reference.</summary>
    public string? LocalPath { get; private init; }

    /// <summary><c>owner/name</c> of the repository, or null for a local file.</summary>
    public string? Repo { get; private init; }

    /// <summary>The quant asked for by name (<c>Q4_K_M</c> in <c>owner/repo:Q4_K_M</c>), or null.</summary>
    public string? Quant { get; private init; }

    /// <summary>The file's path inside the repository (<c>owner/repo/file.gguf</c>), or null.</summary>
    public string? File { get; private init; }

    public bool IsLocal => LocalPath is not null;

    /// <summary>The canonical spelling: <c>owner/repo</c>, <c>owner/repo:QUANT</c> or <c>owner/repo/file.gguf</c>.</summary>
    public override string ToString() => LocalPath ?? (File is not null ? $"{Repo}/{File}" : Quant is not null ? $"{Repo}:{Quant}" : Repo!);

    /// <summary>
    /// Reads a reference. <paramref name="fileExists"/> (default <see cref="System.IO.File.Exists(string)"/>) decides
    /// whether the text names an existing file, which then wins over any reading as a reference.
    /// </summary>
    /// <exception cref="ArgumentException">The text is neither a path nor a well-formed reference; the message says why.</exception>
    public static ModelReference Parse(string text, Func<string, bool>? fileExists = null)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("the model reference is empty: give a GGUF path, owner/repo, owner/repo:QUANT or owner/repo/file.gguf");
        if ((fileExists ?? System.IO.File.Exists)(text) || LooksLikePath(text)) return new ModelReference(text) { LocalPath = text };
        string s = WithoutHost(text);
        string[] parts = s.Split('/');
        // "model.gguf", "dir/model.gguf", "name": paths (a missing file is reported when it is opened).
        if (parts.Length < 2 || (parts.Length == 2 && parts[1].EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && s == text))
            return new ModelReference(text) { LocalPath = text };

        string owner = parts[0], name = parts[1];
        string? quant = null;
        int colon = name.IndexOf(':');
        if (colon >= 0)
        {
            if (parts.Length > 2) throw Bad(text, "a quant (':QUANT') goes after owner/repo, not with a file path");
            quant = name[(colon + 1)..];
            name = name[..colon];
            if (!QuantName().IsMatch(quant)) throw Bad(text, $"'{quant}' is not a quant name (letters, digits, '_', '-', '.'; e.g. Q4_K_M)");
        }
        CheckName(text, owner, "owner");
        CheckName(text, name, "repository name");
        string? file = null;
        if (parts.Length > 2)
        {
            var segments = parts[2..];
            if (segments.Any(p => p.Length == 0 || p is "." or ".."))
                throw Bad(text, "the file path inside the repository has an empty, '.' or '..' part");
            file = string.Join('/', segments);
            if (!file.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                throw Bad(text, $"'{file}' is not a .gguf file");
        }
        return new ModelReference(text) { Repo = $"{owner}/{name}", Quant = quant, File = file };
    }

    private static bool LooksLikePath(string text) =>
        text[0] is '/' or '.' or '~' || text.Contains('\\') || (text.Length >= 2 && text[1] == ':' && char.IsAsciiLetter(text[0]));

    /// <summary>Ollama and the hub's own links spell references with the host in front: hf.co/owner/repo:QUANT.</summary>
    private static string WithoutHost(string text)
    {
        foreach (var prefix in (string[])["https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "https://hf.co/", "hf.co/"])
            if (text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return text[prefix.Length..];
        return text;
    }

    private static void CheckName(string text, string value, string what)
    {
        if (value.Length == 0) throw Bad(text, $"the {what} is empty");
        if (!RepoName().IsMatch(value) || value.Contains("..", StringComparison.Ordinal) || value.Length > 96)
            throw Bad(text, $"'{value}' is not a valid {what} (letters, digits, '-', '_', '.')");
    }

    private static ArgumentException Bad(string text, string why) =>
        new($"'{text}' is not a model reference: {why}; expected a GGUF path, owner/repo, owner/repo:QUANT or owner/repo/file.gguf");

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex RepoName();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex QuantName();
}
