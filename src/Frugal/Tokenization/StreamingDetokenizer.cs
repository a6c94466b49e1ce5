using System.Text;

namespace Frugal.Tokenization;

/// <summary>
/// Turns generated ids into text as they arrive, never emitting half a UTF-8 character: bytes of an incomplete
/// character wait for the next token. Pieces are concatenated raw, as llama.cpp's token_to_piece streams them
/// (no leading-space removal, no space clean-up). Bytes that can never form a character become U+FFFD.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _includeSpecial;
    private readonly List<byte> _pending = new(8);

    /// <param name="includeSpecial">render control tokens (e.g. &lt;|eot_id|&gt;) as their text; otherwise they
    /// produce nothing, as llama.cpp's token_to_piece(special: false).</param>
    public StreamingDetokenizer(Tokenizer tokenizer, bool includeSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _includeSpecial = includeSpecial;
    }

    /// <summary>Adds one token and returns the text that is now complete (possibly empty).</summary>
    public string Push(int id)
    {
        const TokenAttributes hidden = TokenAttributes.Control | TokenAttributes.Unknown;
        if (!_includeSpecial && (_tokenizer.GetAttributes(id) & hidden) != 0)
        {
            _ = _tokenizer.TokenBytes(id); // validates the id
            return "";
        }
        _pending.AddRange(_tokenizer.TokenBytes(id));
        int complete = CompletePrefixLength(_pending);
        if (complete == 0) return "";
        string text = Encoding.UTF8.GetString(_pending.GetRange(0, complete).ToArray());
        _pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>Returns whatever is still held (an unfinished character becomes U+FFFD) and resets.</summary>
    public string Flush()
    {
        string text = Encoding.UTF8.GetString(_pending.ToArray());
        _pending.Clear();
        return text;
    }

    /// <summary>
    /// Length of the prefix that can be decoded now: everything except a trailing sequence that is a valid
    /// beginning of a multi-byte character (lead byte plus fewer continuation bytes than it announces).
    /// </summary>
    private static int CompletePrefixLength(List<byte> bytes)
    {
        int n = bytes.Count;
        // A character is at most 4 bytes, so only the last 3 can be an unfinished one.
        for (int back = 1; back <= Math.Min(3, n); back++)
        {
            byte b = bytes[n - back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte: keep looking for its lead
            int need = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}
