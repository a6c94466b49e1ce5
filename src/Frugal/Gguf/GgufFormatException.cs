namespace Frugal.Gguf;

/// <summary>
/// The one exception a malformed GGUF file raises. The message names the file, the field that is wrong,
/// the byte offset where it was read, and what was expected.
/// </summary>
public sealed class GgufFormatException : Exception
{
    public GgufFormatException(string field, long offset, string problem, string? path = null)
        : base($"{(path is null ? "GGUF" : $"GGUF file '{path}'")}: {field} at offset {offset}: {problem}")
    {
        Field = field;
        Offset = offset;
    }

    /// <summary>The header field, metadata key or tensor the problem was found in.</summary>
    public string Field { get; }

    /// <summary>Byte offset in the file where the bad value was read.</summary>
    public long Offset { get; }
}
