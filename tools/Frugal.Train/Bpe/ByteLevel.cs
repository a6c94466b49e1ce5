namespace Frugal.Train.Bpe;

/// <summary>
/// GPT-2's byte-to-unicode map: every byte gets a printable character (printable ASCII and Latin-1 map to
/// themselves, the rest to U+0100 onwards), so tokens and merges in GGUF are plain strings, as llama.cpp expects
/// for tokenizer.ggml.model = "gpt2".
/// </summary>
public static class ByteLevel
{
    public static readonly char[] ByteToChar = Build();
    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    private static char[] Build()
    {
        var map = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return map;
    }

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    public static byte[] Decode(string text) => text.Select(c => CharToByte[c]).ToArray();
}
