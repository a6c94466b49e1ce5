using System.Text;
using Frugal.Inference.Generation;
using Frugal.Inference.Sampling;
using Frugal.Tokenization;

namespace Frugal.Tests.Inference;

public class TextGeneratorTests
{
    private static readonly GenerationOptions Greedy = new() { Sampling = SamplingOptions.Greedy, MaxTokens = 100 };

    /// <summary>A model that, after a prompt of <paramref name="promptLength"/> tokens, produces <paramref name="script"/> then EOS.</summary>
    private static FakeModel Scripted(int promptLength, int[] script, int contextLength = 64) =>
        new((pos, _) =>
        {
            int i = pos + 1 - promptLength;
            return i < 0 ? 0 : i < script.Length ? script[i] : ByteTokenizer.Eos;
        }, contextLength: contextLength);

    private static int[] Bytes(string s) => Encoding.UTF8.GetBytes(s).Select(b => (int)b).ToArray();

    private static (GenerationResult Result, List<GeneratedPiece> Pieces) Run(FakeModel model, string prompt, GenerationOptions options)
    {
        var pieces = new List<GeneratedPiece>();
        var result = new TextGenerator(model, new ByteTokenizer()).Generate(prompt, options, pieces.Add);
        return (result, pieces);
    }

    [Fact]
    public void Greedy_generation_follows_the_model_and_stops_at_end_of_generation()
    {
        var model = Scripted(3, Bytes("ok!"));
        var (r, pieces) = Run(model, "hi", Greedy);
        Assert.Equal([ByteTokenizer.Bos, 'h', 'i'], r.PromptTokens);
        Assert.Equal(Bytes("ok!"), r.Tokens);
        Assert.Equal("ok!", r.Text);
        Assert.Equal(StopReason.EndOfGeneration, r.StopReason);
        Assert.Equal(["o", "k", "!"], pieces.Select(p => p.Text));
        Assert.Equal([3, 1, 1, 1], model.ForwardLengths); // prefill, then one pass per generated token
        Assert.Equal((3, 3, 4), (r.Timings.PromptTokens, r.Timings.DecodeTokens, r.Timings.SampledTokens));
    }

    [Fact]
    public void A_generated_control_token_prints_nothing_by_the_same_rule_as_the_engine()
    {
        // BOS is a control token that does not end generation: its text "<s>" must not reach the output.
        var model = Scripted(3, [.. Bytes("a"), ByteTokenizer.Bos, .. Bytes("b")]);
        var (r, pieces) = Run(model, "hi", Greedy);
        Assert.Equal([(int)'a', ByteTokenizer.Bos, (int)'b'], r.Tokens);
        Assert.Equal("ab", r.Text);
        Assert.Equal(["a", "", "b"], pieces.Select(p => p.Text));

    }

    [Fact]
    public void Stops_at_max_tokens_without_an_extra_forward_pass()
    {
        var model = Scripted(3, Bytes("abcdef"));
        var (r, _) = Run(model, "hi", Greedy with { MaxTokens = 2 });
        Assert.Equal("ab", r.Text);
        Assert.Equal(StopReason.MaxTokens, r.StopReason);
        Assert.Equal([3, 1], model.ForwardLengths);
    }

    [Fact]
    public void Stop_string_spanning_tokens_ends_generation_and_is_not_emitted()
    {
        var (r, pieces) = Run(Scripted(3, Bytes("abXYZcd")), "hi", Greedy with { StopStrings = ["XYZ"] });
        Assert.Equal("ab", r.Text);
        Assert.Equal(StopReason.StopString, r.StopReason);
        Assert.Equal(["a", "b", "", "", ""], pieces.Select(p => p.Text));
        Assert.Equal(Bytes("abXYZ"), r.Tokens);
    }

    [Fact]
    public void Held_back_text_is_released_as_soon_as_it_cannot_become_a_stop_string()
    {
        var (r, pieces) = Run(Scripted(3, Bytes("aXYbX")), "hi", Greedy with { StopStrings = ["XYZ"] });
        Assert.Equal(["a", "", "", "XYb", "", "X"], pieces.Select(p => p.Text));
        Assert.Equal(-1, pieces[^1].TokenId); // the held "X" released at the end
        Assert.Equal("aXYbX", r.Text);
        Assert.Equal(StopReason.EndOfGeneration, r.StopReason);
    }

    [Fact]
    public void The_earliest_of_several_stop_strings_wins()
    {
        var (r, _) = Run(Scripted(3, Bytes("one</b>two<a>")), "hi", Greedy with { StopStrings = ["<a>", "</b>", "wo"] });
        Assert.Equal("one", r.Text);
    }

    [Fact]
    public void Multi_byte_characters_split_over_tokens_are_emitted_whole()
    {
        var (r, pieces) = Run(Scripted(3, Bytes("é日")), "hi", Greedy);
        Assert.Equal(["", "é", "", "", "日"], pieces.Select(p => p.Text));
        Assert.Equal("é日", r.Text);
    }

    [Fact]
    public void An_incomplete_character_at_the_end_becomes_a_replacement_character()
    {
        var (r, pieces) = Run(Scripted(3, [0x61, 0xE6, 0x97]), "hi", Greedy);
        Assert.Equal(["a", "", "", "\uFFFD"], pieces.Select(p => p.Text));
        Assert.Equal("a\uFFFD", r.Text);
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => Run(Scripted(6, Bytes("x"), contextLength: 4), "hello", Greedy));
        Assert.Contains("the prompt is 6 tokens but the context holds only 4", e.Message);
    }

    [Fact]
    public void An_empty_prompt_without_bos_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => Run(Scripted(0, Bytes("x")), "", Greedy with { AddSpecial = false }));
        Assert.Contains("the prompt has no tokens", e.Message);
    }

    [Fact]
    public void Generation_stops_when_the_context_is_full()
    {
        var model = Scripted(3, Bytes("abcdefgh"), contextLength: 6);
        var (r, _) = Run(model, "hi", Greedy with { MaxTokens = -1 });
        Assert.Equal(StopReason.ContextFull, r.StopReason);
        Assert.Equal("abcd", r.Text); // 3 prompt + 3 evaluated generated tokens fill 6 positions; the 4th comes from the last logits
        Assert.Equal([3, 1, 1, 1], model.ForwardLengths);
    }

    [Fact]
    public void Prefill_is_split_into_chunks()
    {
        var model = Scripted(6, Bytes("z"));
        Run(model, "hello", Greedy with { PrefillChunk = 2 });
        Assert.Equal([2, 2, 2, 1], model.ForwardLengths);
    }

    [Fact]
    public void Cancellation_stops_the_decode_loop()
    {
        using var cts = new CancellationTokenSource();
        var generator = new TextGenerator(Scripted(3, Bytes("abcdef")), new ByteTokenizer());
        int seen = 0;
        Assert.Throws<OperationCanceledException>(() =>
            generator.Generate("hi", Greedy, p => { if (++seen == 2) cts.Cancel(); }, cts.Token));
        Assert.Equal(2, seen);
    }

    [Fact]
    public async Task Async_stream_yields_the_same_pieces_as_the_callback()
    {
        var options = Greedy with { StopStrings = ["cd"] };
        var (_, expected) = Run(Scripted(3, Bytes("abXcde")), "hi", options);
        var generator = new TextGenerator(Scripted(3, Bytes("abXcde")), new ByteTokenizer());
        var actual = new List<GeneratedPiece>();
        await foreach (var p in generator.GenerateAsync("hi", options))
            actual.Add(p);
        Assert.Equal(expected, actual);
        Assert.Equal("abX", string.Concat(actual.Select(p => p.Text)));
    }

    [Fact]
    public void Seeded_sampling_through_the_generator_is_reproducible()
    {
        // Smooth logits: the "next" token only gets logit 8 while every other id has [-1, 1), so temperature 4 spreads choices.
        // A 256-id vocabulary (bytes only, no BOS) so that no end-of-generation token can be drawn.
        FakeModel Model() => new((pos, tok) => (pos * 31 + tok) % 256, vocabSize: 256);
        var options = new GenerationOptions { MaxTokens = 40, AddSpecial = false, Sampling = new SamplingOptions { Temperature = 4, TopK = 0, TopP = 1, MinP = 0, Seed = 99 } };
        var a = Run(Model(), "seed", options).Result.Tokens;
        var b = Run(Model(), "seed", options).Result.Tokens;
        var c = Run(Model(), "seed", options with { Sampling = options.Sampling with { Seed = 100 } }).Result.Tokens;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(40, a.Count);
    }

    [Fact]
    public void Prompt_tokens_count_toward_the_repetition_penalty()
    {
        // The model wants 'h' next; 'h' is in the prompt, so a strong penalty (8 / 100 = 0.08 < the other logits' max
        // of nearly 1) makes greedy pick something else.
        FakeModel Model() => new((_, _) => 'h');
        var plain = Run(Model(), "hi", Greedy with { MaxTokens = 1 }).Result.Tokens;
        var penalized = Run(Model(), "hi", Greedy with { MaxTokens = 1, Sampling = SamplingOptions.Greedy with { RepeatPenalty = 100 } }).Result.Tokens;
        Assert.Equal(['h'], plain);
        Assert.NotEqual('h', penalized[0]);
    }

    [Theory]
    [InlineData("MaxTokens")]
    [InlineData("ContextLength")]
    [InlineData("PrefillChunk")]
    [InlineData("StopStrings")]
    public void Bad_generation_options_throw_argument_exceptions(string name)
    {
        Action make = name switch
        {
            "MaxTokens" => () => _ = new GenerationOptions { MaxTokens = -2 },
            "ContextLength" => () => _ = new GenerationOptions { ContextLength = 0 },
            "PrefillChunk" => () => _ = new GenerationOptions { PrefillChunk = 0 },
            _ => () => _ = new GenerationOptions { StopStrings = ["ok", ""] },
        };
        Assert.Equal(name, Assert.Throws<ArgumentException>(make).ParamName);
    }
}
