namespace Frugal.Tokenization;

/// <summary>
/// Per-token attributes, bit for bit llama.cpp's <c>llama_token_attr</c>: the GGUF file stores a token type
/// (tokenizer.ggml.token_type), llama.cpp turns it into one of these bits and then adjusts some by token text.
/// </summary>
[Flags]
public enum TokenAttributes
{
    Undefined = 0,
    Unknown = 1 << 0,
    Unused = 1 << 1,
    Normal = 1 << 2,
    Control = 1 << 3,
    UserDefined = 1 << 4,
    Byte = 1 << 5,
    Normalized = 1 << 6,
    LStrip = 1 << 7,
    RStrip = 1 << 8,
    SingleWord = 1 << 9,
}

/// <summary>Token types as numbered in tokenizer.ggml.token_type (llama.cpp's <c>llama_token_type</c>).</summary>
public enum GgufTokenType
{
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

internal static class TokenTypeMapping
{
    public static TokenAttributes ToAttributes(long type) => type switch
    {
        (long)GgufTokenType.Unknown => TokenAttributes.Unknown,
        (long)GgufTokenType.Unused => TokenAttributes.Unused,
        (long)GgufTokenType.Normal => TokenAttributes.Normal,
        (long)GgufTokenType.Control => TokenAttributes.Control,
        (long)GgufTokenType.UserDefined => TokenAttributes.UserDefined,
        (long)GgufTokenType.Byte => TokenAttributes.Byte,
        _ => TokenAttributes.Undefined,
    };
}
