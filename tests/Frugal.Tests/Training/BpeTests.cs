using Frugal.Evaluation;
using Frugal.Train.Bpe;

namespace Frugal.Tests.Training;

public class BpeTests
{
    [Fact]
    public void Encode_then_decode_returns_the_text_for_every_kind_of_document()
    {
        var tok = LlamaCppExportTests.SmallTokenizer();
        var corpus = new CorpusGenerator(99);
        for (int i = 0; i < 40; i++)
        {
            string text = corpus.Next((DocumentKind)(i % 4)).Text;
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
        }
        Assert.Equal("naïve café ☕ 12", tok.Decode(tok.Encode("naïve café ☕ 12")));
    }

    [Fact]
    public void Vocabulary_never_exceeds_the_requested_size_and_merges_shorten_text()
    {
        var corpus = new CorpusGenerator(1);
        var texts = Enumerable.Range(0, 300).Select(i => corpus.Next((DocumentKind)(i % 4)).Text).ToList();
        var tok = BpeTrainer.Train(texts, 300);
        Assert.Equal(300, tok.VocabSize);
        Assert.Equal(tok.TokenBytes.Count, tok.GgufTokens().Length - 2);
        Assert.Equal(tok.Merges.Count, tok.GgufMerges().Length);
        string story = texts[0];
        // 44 merges (vocabulary 300) take a story from 1 token a byte to under 0.8 (0.73 with this corpus).
        double ratio = (double)tok.Encode(story).Count / System.Text.Encoding.UTF8.GetByteCount(story);
        Assert.True(ratio < 0.8, $"{ratio:F3} tokens per byte");
    }

    [Fact]
    public void Digits_are_always_single_tokens_so_arithmetic_sees_every_digit()
    {
        var tok = LlamaCppExportTests.SmallTokenizer();
        var ids = tok.Encode("123+456=975");
        Assert.Equal(11, ids.Count);
        Assert.Equal(["1", "2", "3", "+", "4", "5", "6", "=", "9", "7", "5"], ids.Select(id => tok.Decode([id])));
    }

    [Fact]
    public void Pre_tokenizer_splits_like_llama_cpp_qwen2()
    {
        // A space before a digit stays alone: \p{N} takes one digit and nothing else.
        Assert.Equal(["Hello", ",", " world", "!", " ", "1", "2", "\n", "Again", ":", " red", "."],
            Qwen2PreTokenizer.Split("Hello, world! 12\nAgain: red."));
        Assert.Equal(["It", "'s", " a", "  ", " cat"], Qwen2PreTokenizer.Split("It's a   cat"));
    }
}
