using System.Text;
using Frugal.Tokenization;

namespace Frugal.Tests.Tokenization;

public class StreamingDetokenizerTests
{
    [Theory]
    [InlineData(HfTokenizer.Llama2, "龘 and 𠀀 need byte tokens: 🦙🫠")]
    [InlineData(HfTokenizer.Llama3, "🦙🫠 龘𠀀 👨‍👩‍👧‍👦")]
    [InlineData(HfTokenizer.Qwen3, "🦙🫠 龘𠀀 👨‍👩‍👧‍👦")]
    [InlineData(HfTokenizer.Gemma3, "𠀀𪚥 and 🦙 need byte tokens in Gemma: 𰻞")]
    [InlineData(HfTokenizer.MistralNemo, "🦙🫠 龘𠀀 👨‍👩‍👧‍👦")]
    public void Multi_byte_characters_split_across_tokens_are_emitted_whole(HfTokenizer model, string text)
    {
        var tokenizer = LoadedTokenizers.Frugal(model);
        int[] ids = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);

        // The case under test must happen: some token ends in the middle of a UTF-8 character.
        int splitTokens = 0;
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            bytes.AddRange(tokenizer.TokenBytes(id));
            if (!IsCompleteUtf8(bytes)) splitTokens++;
        }
        Assert.True(splitTokens > 0, "expected at least one token to end inside a character");

        var stream = new StreamingDetokenizer(tokenizer);
        var output = new StringBuilder();
        int emptyPushes = 0;
        foreach (int id in ids)
        {
            string piece = stream.Push(id);
            Assert.DoesNotContain('\uFFFD', piece);
            if (piece.Length > 0 && char.IsHighSurrogate(piece[^1])) Assert.Fail($"piece ends inside a surrogate pair: {piece}");
            if (piece.Length == 0) emptyPushes++;
            output.Append(piece);
        }
        output.Append(stream.Flush());

        Assert.True(emptyPushes > 0, "a token ending inside a character must emit nothing yet");
        Assert.Equal(Encoding.UTF8.GetString([.. bytes]), output.ToString());
        // SentencePiece pieces carry the "▁" prefix as a space; the stream keeps it, Decode drops it.
        Assert.Equal(text, model == HfTokenizer.Llama2 ? output.ToString()[1..] : output.ToString());
    }

    [Fact]
    public void Control_tokens_are_hidden_unless_asked_for_and_flush_replaces_an_unfinished_character()
    {
        var llama3 = LoadedTokenizers.Frugal(HfTokenizer.Llama3);
        var hidden = new StreamingDetokenizer(llama3);
        Assert.Equal("", hidden.Push(128009));
        var shown = new StreamingDetokenizer(llama3, includeSpecial: true);
        Assert.Equal("<|eot_id|>", shown.Push(128009));

        // The first byte-level token of an emoji alone is an unfinished character.
        int[] ids = llama3.Encode("🫠", addSpecial: false);
        Assert.True(ids.Length > 1);
        var stream = new StreamingDetokenizer(llama3);
        Assert.Equal("", stream.Push(ids[0]));
        Assert.Equal("\uFFFD", stream.Flush());
        Assert.Equal("", stream.Flush());
    }

    [Fact]
    public void Push_rejects_an_id_outside_the_vocabulary()
    {
        var stream = new StreamingDetokenizer(LoadedTokenizers.Frugal(HfTokenizer.Qwen3));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => stream.Push(10_000_000));
        Assert.Contains("10000000", ex.Message);
    }

    private static bool IsCompleteUtf8(List<byte> bytes)
    {
        try
        {
            new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
