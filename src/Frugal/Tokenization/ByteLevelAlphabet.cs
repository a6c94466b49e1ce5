namespace Frugal.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-character map: byte-level BPE vocabularies spell every byte as a printable
/// character (printable Latin-1 bytes as themselves, the rest as U+0100 onwards).
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var assigned = new bool[256];
        foreach (var (lo, hi) in new[] { (0x21, 0x7E), (0xA1, 0xAC), (0xAE, 0xFF) })
            for (int b = lo; b <= hi; b++)
            {
                map[b] = (char)b;
                assigned[b] = true;
            }
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!assigned[b]) map[b] = (char)(256 + n++);
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var d = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) d[ByteToChar[b]] = (byte)b;
        return d;
    }

    /// <summary>The byte-level spelling of a word's UTF-8 bytes.</summary>
    public static string Encode(string word)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(word);
        return string.Create(bytes.Length, bytes, static (span, b) =>
        {
            for (int i = 0; i < b.Length; i++) span[i] = ByteToChar[b[i]];
        });
    }

    /// <summary>
    /// The bytes a byte-level token stands for. A character outside the alphabet cannot come from a byte;
    /// llama.cpp writes "[UNK_BYTE_0x..]" for it and so does this.
    /// </summary>
    public static void Decode(string tokenText, List<byte> output)
    {
        for (int i = 0; i < tokenText.Length; i++)
        {
            if (CharToByte.TryGetValue(tokenText[i], out byte b))
            {
                output.Add(b);
                continue;
            }
            int len = char.IsHighSurrogate(tokenText[i]) && i + 1 < tokenText.Length ? 2 : 1;
            var utf8 = System.Text.Encoding.UTF8.GetBytes(tokenText.Substring(i, len));
            string unk = "[UNK_BYTE_0x" + Convert.ToHexStringLower(utf8) + tokenText + "]";
            output.AddRange(System.Text.Encoding.UTF8.GetBytes(unk));
            i += len - 1;
        }
    }
}
