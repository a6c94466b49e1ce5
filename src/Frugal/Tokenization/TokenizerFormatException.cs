namespace Frugal.Tokenization;

/// <summary>
/// The tokenizer.* metadata of a GGUF file is missing, malformed or names a tokenizer this library does not
/// implement. The message names the metadata key and what was expected.
/// </summary>
public sealed class TokenizerFormatException : Exception
{
    public TokenizerFormatException(string key, string problem)
        : base($"tokenizer metadata '{key}': {problem}")
    {
        Key = key;
    }

    /// <summary>The metadata key the problem was found in.</summary>
    public string Key { get; }
}
