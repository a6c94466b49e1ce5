using System.Text;
using Frugal.Tokenization;

namespace Frugal.Tests.Tokenization;

/// <summary>Token ids, pieces and detokenized text against llama.cpp on real vocabularies, for every corpus string.</summary>
public class TokenizerParityTests
{
    public static TheoryData<HfTokenizer> Models =>
        [HfTokenizer.Llama2, HfTokenizer.Llama3, HfTokenizer.Qwen3, HfTokenizer.Gemma3, HfTokenizer.Llama3_1, HfTokenizer.MistralNemo,
            HfTokenizer.Gpt4o];

    /// <summary>
    /// Each family with its own pre-tokenizer (Gemma 3's SentencePiece, Mistral Nemo's tekken, o200k's gpt-4o as
    /// Phi-4-mini names it), and the Qwen3 vocabulary under the gpt-2, smollm and default ones.
    /// </summary>
    public static TheoryData<HfTokenizer, string> PreTokenizers => new()
    {
        { HfTokenizer.Llama2, HfVocabGguf.NoPre },
        { HfTokenizer.Llama3, "llama-bpe" },
        { HfTokenizer.Qwen3, "qwen2" },
        { HfTokenizer.Qwen3, "gpt-2" },
        { HfTokenizer.Qwen3, "smollm" },
        { HfTokenizer.Qwen3, HfVocabGguf.NoPre },
        { HfTokenizer.Gemma3, "default" },
        { HfTokenizer.Llama3_1, "llama-bpe" },
        { HfTokenizer.MistralNemo, "tekken" },
        { HfTokenizer.Gpt4o, "gpt-4o" },
    };

    [Fact]
    public void Corpus_has_at_least_300_strings_including_empty_and_special_text()
    {
        Assert.True(TokenizerCorpus.All.Count >= 300, $"corpus has {TokenizerCorpus.All.Count} strings");
        Assert.Contains("", TokenizerCorpus.All);
        Assert.Contains("<|im_end|><|im_end|>", TokenizerCorpus.All);
    }

    [Theory]
    [MemberData(nameof(PreTokenizers))]
    public void Encode_gives_llama_cpp_ids_for_every_corpus_string(HfTokenizer model, string pre)
    {
        var ours = LoadedTokenizers.Frugal(model, pre);
        var oracle = LoadedTokenizers.LlamaCpp(model, pre);
        var failures = new List<string>();
        foreach (string text in TokenizerCorpus.All)
        {
            foreach (var (addSpecial, parseSpecial) in new[] { (true, true), (false, false) })
            {
                int[] expected = oracle.Tokenize(text, addSpecial, parseSpecial);
                int[] actual = ours.Encode(text, addSpecial, parseSpecial);
                if (!expected.AsSpan().SequenceEqual(actual))
                    failures.Add($"{Show(text)} special={addSpecial}/{parseSpecial}: llama.cpp [{string.Join(",", expected)}] ours [{string.Join(",", actual)}]");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n{string.Join("\n", failures.Take(25))}");
    }

    [Theory]
    [MemberData(nameof(PreTokenizers))]
    public void Decode_matches_llama_cpp_detokenize_and_round_trips_where_llama_cpp_does(HfTokenizer model, string pre)
    {
        var ours = (GgufTokenizer)LoadedTokenizers.Frugal(model, pre);
        var oracle = LoadedTokenizers.LlamaCpp(model, pre);
        var failures = new List<string>();
        int roundTrips = 0;
        foreach (string text in TokenizerCorpus.All)
        {
            int[] ids = ours.Encode(text, addSpecial: false, parseSpecial: false);
            byte[] expected = oracle.Detokenize(ids, removeSpecial: false, unparseSpecial: true);
            string decoded = ours.Decode(ids);
            if (decoded != Encoding.UTF8.GetString(expected))
                failures.Add($"{Show(text)}: llama.cpp {Show(Encoding.UTF8.GetString(expected))} ours {Show(decoded)}");
            else if (decoded == text)
                roundTrips++;
            else if (!LlamaCppDoesNotRoundTrip(ours, text))
                failures.Add($"{Show(text)} decodes to {Show(decoded)} (llama.cpp agrees, but no known rule explains it)");

            // With BOS and special tokens parsed, both removal and rendering flags must agree too.
            int[] withSpecial = ours.Encode(text);
            foreach (var (remove, unparse) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                var want = oracle.Detokenize(withSpecial, remove, unparse);
                var got = ours.Detokenize(withSpecial, remove, unparse);
                if (!want.AsSpan().SequenceEqual(got))
                    failures.Add($"{Show(text)} remove={remove} unparse={unparse}: llama.cpp {Show(Encoding.UTF8.GetString(want))} ours {Show(Encoding.UTF8.GetString(got))}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n{string.Join("\n", failures.Take(25))}");
        Assert.True(roundTrips > TokenizerCorpus.All.Count * 9 / 10, $"only {roundTrips} of {TokenizerCorpus.All.Count} round-trip");
    }

    [Theory]
    [MemberData(nameof(PreTokenizers))]
    public void Encode_gives_llama_cpp_ids_for_random_mixtures_of_hard_characters(HfTokenizer model, string pre)
    {
        // Fixed seed: random interleavings of the character classes the pre-tokenizers treat differently.
        string[] pool =
        [
            " ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "a", "Z", "é", "ß", "Ω", "ж", "ا", "ह", "\u094D", "中", "日", "한", "ｱ",
            "0", "7", "٣", "²", "'", "'s", "'LL", "'re", ".", ",", "?", "!", "-", "_", "(", "\"", "$", "+", "<", "|", "`",
            "😀", "👍🏽", "👨‍👩‍👧", "\u0301", "\u200B", "\u200D", "▁", "𝐀", "𠀀", "<s>", "<|im_end|>", "<think>", "<|eot_id|>",
        ];
        var random = new Random(20240601);
        var ours = LoadedTokenizers.Frugal(model, pre);
        var oracle = LoadedTokenizers.LlamaCpp(model, pre);
        var failures = new List<string>();
        for (int i = 0; i < 300; i++)
        {
            var sb = new StringBuilder();
            int parts = random.Next(1, 14);
            for (int p = 0; p < parts; p++) sb.Append(pool[random.Next(pool.Length)]);
            string text = sb.ToString();
            bool special = random.Next(2) == 0;
            int[] expected = oracle.Tokenize(text, special, special);
            int[] actual = ours.Encode(text, special, special);
            if (!expected.AsSpan().SequenceEqual(actual))
                failures.Add($"{Show(text)} special={special}: llama.cpp [{string.Join(",", expected)}] ours [{string.Join(",", actual)}]");
            if (ours.Decode(actual) != Encoding.UTF8.GetString(oracle.Detokenize(actual, false, true)))
                failures.Add($"{Show(text)}: decode differs");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n{string.Join("\n", failures.Take(25))}");
    }

    /// <summary>
    /// Where llama.cpp's own detokenize does not give the input back: SentencePiece spells spaces "▁", so a "▁"
    /// in the input comes back as a space; vocabularies with clean_spaces (llama-bpe, gpt-2, default) remove the
    /// space before ? ! . , and in " 's", " 'm", " 're", " 've" and around a lone apostrophe. Qwen2 and smollm
    /// vocabularies round-trip everything.
    /// </summary>
    private static bool LlamaCppDoesNotRoundTrip(GgufTokenizer tokenizer, string text) =>
        tokenizer.Vocab.Kind == VocabularyKind.SentencePiece ? text.Contains('\u2581')
        : tokenizer.Vocab.CleanSpaces && new[] { " ?", " !", " .", " ,", " '" }.Any(p => text.Contains(p, StringComparison.Ordinal));

    [Theory]
    [MemberData(nameof(Models))]
    public void Token_bytes_match_llama_cpp_pieces_for_every_id(HfTokenizer model)
    {
        var ours = LoadedTokenizers.Frugal(model);
        var oracle = LoadedTokenizers.LlamaCpp(model);
        Assert.Equal(oracle.Count, ours.VocabSize);
        var failures = new List<string>();
        for (int id = 0; id < ours.VocabSize; id++)
        {
            byte[] want = oracle.TokenToPiece(id, special: true);
            byte[] got = ours.TokenBytes(id);
            if (!want.AsSpan().SequenceEqual(got))
                failures.Add($"id {id} {Show(ours.TokenText(id))}: llama.cpp {Convert.ToHexString(want)} ours {Convert.ToHexString(got)}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n{string.Join("\n", failures.Take(25))}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Special_ids_and_end_of_generation_set_match_llama_cpp(HfTokenizer model)
    {
        var ours = LoadedTokenizers.Frugal(model);
        var oracle = LoadedTokenizers.LlamaCpp(model);
        Assert.Equal(oracle.Bos, ours.BosId ?? -1);
        Assert.Equal(oracle.Eos, ours.EosId ?? -1);
        Assert.Equal(oracle.AddBos, ours.AddBos);
        var expected = Enumerable.Range(0, oracle.Count).Where(oracle.IsEog).ToArray();
        Assert.Equal(expected, ours.EndOfGeneration.Order().ToArray());
    }

    [Fact]
    public void End_of_generation_holds_the_chat_end_tokens_of_each_family()
    {
        var llama3 = LoadedTokenizers.Frugal(HfTokenizer.Llama3);
        var qwen3 = LoadedTokenizers.Frugal(HfTokenizer.Qwen3);
        var llama2 = LoadedTokenizers.Frugal(HfTokenizer.Llama2);
        Assert.Equal(new HashSet<int> { 128001, 128009 }, llama3.EndOfGeneration.ToHashSet()); // end_of_text, eot_id
        Assert.Superset(new HashSet<int> { 151643, 151645 }, qwen3.EndOfGeneration.ToHashSet()); // endoftext, im_end
        Assert.Equal(new HashSet<int> { 2 }, llama2.EndOfGeneration.ToHashSet());
        Assert.Equal("<|im_end|>", qwen3.TokenText(151645));
    }

    [Fact]
    public void Parse_special_maps_special_text_to_its_id_and_adds_bos_per_metadata()
    {
        var llama3 = LoadedTokenizers.Frugal(HfTokenizer.Llama3);
        int[] ids = llama3.Encode("<|begin_of_text|><|eot_id|>");
        Assert.Equal([128000, 128000, 128009], ids); // BOS added by default for llama-bpe, then the two parsed tokens
        Assert.DoesNotContain(128009, llama3.Encode("<|eot_id|>", addSpecial: false, parseSpecial: false));

        var qwen3 = LoadedTokenizers.Frugal(HfTokenizer.Qwen3);
        Assert.Equal([151644], qwen3.Encode("<|im_start|>")); // add_bos_token = false
        // <think> is user-defined: split out even without parse_special, as llama.cpp does.
        Assert.Equal([151667], qwen3.Encode("<think>", addSpecial: false, parseSpecial: false));
    }

    [Fact]
    public void Gemma3_turn_tokens_and_user_defined_whitespace_runs_tokenize_as_llama_cpp()
    {
        var gemma = LoadedTokenizers.Frugal(HfTokenizer.Gemma3);
        var oracle = LoadedTokenizers.LlamaCpp(HfTokenizer.Gemma3);
        string turn = "<start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n";
        // <bos> <start_of_turn> user \n Hi ▁there <end_of_turn> \n <start_of_turn> model \n: no space prefix anywhere.
        Assert.Equal([2, 105, 2364, 107, 10979, 993, 106, 107, 105, 4368, 107], gemma.Encode(turn));
        Assert.Equal(oracle.Tokenize(turn, true, true), gemma.Encode(turn));
        // "  " (138), "\n\n" (108) and "\t" (255968) are user-defined: split out even when special text is not parsed.
        int[] ids = gemma.Encode("a  b\n\n\tc", addSpecial: false, parseSpecial: false);
        Assert.Equal(oracle.Tokenize("a  b\n\n\tc", false, false), ids);
        Assert.Equal([236746, 138, 236763, 108, 255968, 236755], ids);
        // <eos>, <end_of_turn>, and Gemma's HTML "</s>" (212), which llama.cpp's end-of-generation texts include too.
        Assert.Equal(new HashSet<int> { 1, 106, 212 }, gemma.EndOfGeneration.ToHashSet());
    }

    [Fact]
    public void Mistral_nemo_instruction_tokens_and_bos_follow_the_tekken_rules()
    {
        var nemo = LoadedTokenizers.Frugal(HfTokenizer.MistralNemo);
        var oracle = LoadedTokenizers.LlamaCpp(HfTokenizer.MistralNemo);
        int[] ids = nemo.Encode("[INST] Hello world[/INST]");
        Assert.Equal(oracle.Tokenize("[INST] Hello world[/INST]", true, true), ids);
        Assert.Equal(1, ids[0]); // tekken adds BOS by default
        Assert.Equal(3, ids[1]);
        Assert.Equal(4, ids[^1]);
        Assert.Equal("[INST] Hello world[/INST]", nemo.Decode(ids.AsSpan(1)));
    }

    [Fact]
    public void Phi3_named_models_strip_spaces_after_special_tokens_as_llama_cpp_does()
    {
        string path = HfVocabGguf.PathFor(HfTokenizer.Llama2, HfVocabGguf.NoPre, generalName: "Phi-3 mini vocab");
        using var file = Frugal.Gguf.GgufFile.Open(path);
        var ours = Tokenizer.FromGguf(file);
        using var oracle = new Oracle.LlamaCppVocab(path);
        foreach (string text in new[] { "</s>   Hello", "<s>  Hi</s>\n\nthere", "<unk>  x", "a </s>\t\tb </s>", "<|user|>\n  Hi<|end|>\n<|assistant|>" })
            Assert.Equal(oracle.Tokenize(text, true, true), ours.Encode(text));
        // "</s>" right-strips: the spaces after it are gone, so "Hello" is tokenized as if it followed directly.
        Assert.Equal(ours.Encode("</s>Hello"), ours.Encode("</s>   Hello"));
        Assert.NotEqual(ours.Encode("<s>Hi"), ours.Encode("<s>  Hi"));
        Assert.Equal(ours.Encode("<|user|>Hi"), ours.Encode("<|user|>\n  Hi"));
    }

    private static string Show(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
            sb.Append(c < 0x20 || c is '\u2028' or '\u2029' or '\u0085' ? $"\\u{(int)c:X4}" : c.ToString());
        return sb.Append('"').ToString();
    }
}
