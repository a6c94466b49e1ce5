using System.Text;
using Frugal.Tokenization;

namespace Frugal.Inference.Generation;

/// <summary>
/// Turns a stream of token ids into text. A token may hold part of a UTF-8 character, so the bytes go through one
/// stateful UTF-8 decoder that releases a character only when all its bytes have arrived; invalid bytes become U+FFFD.
/// </summary>
public sealed class TokenTextDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private char[] _chars = new char[64];

    public TokenTextDecoder(Tokenizer tokenizer) => _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));

    /// <summary>The text that <paramref name="token"/> completes (possibly empty).</summary>
    public string Push(int token) => Decode(_tokenizer.TokenBytes(token), flush: false);

    /// <summary>Ends the stream: an incomplete trailing character becomes U+FFFD.</summary>
    public string Flush() => Decode([], flush: true);

    private string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        int max = _decoder.GetCharCount(bytes, flush);
        if (max > _chars.Length) _chars = new char[Math.Max(max, 2 * _chars.Length)];
        int n = _decoder.GetChars(bytes, _chars, flush);
        return n == 0 ? "" : new string(_chars, 0, n);
    }
}
