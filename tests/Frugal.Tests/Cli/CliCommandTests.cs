using System.Text.Json;
using Frugal.Gguf;
using Frugal.Tests.Inference;

namespace Frugal.Tests.Cli;

/// <summary>What the commands print when they succeed (models and tokenizers are the byte-level fakes).</summary>
public sealed class CliCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Info_json_describes_metadata_tensors_and_tokenizer()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.Run("info", path, "--json");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        using var doc = JsonDocument.Parse(o.Out);
        var j = doc.RootElement;
        using var file = GgufFile.Open(path);
        Assert.Equal(path, j.GetProperty("path").GetString());
        Assert.Equal(new FileInfo(path).Length, j.GetProperty("file_bytes").GetInt64());
        Assert.Equal(3, j.GetProperty("version").GetInt32());
        Assert.Equal("llama", j.GetProperty("architecture").GetString());
        Assert.Equal("tiny test model", j.GetProperty("name").GetString());
        Assert.Equal(256, j.GetProperty("context_length").GetInt32());
        Assert.Equal(32, j.GetProperty("embedding_length").GetInt32());
        Assert.Equal(2, j.GetProperty("block_count").GetInt32());
        Assert.Equal(4, j.GetProperty("head_count").GetInt32());
        Assert.Equal(2, j.GetProperty("head_count_kv").GetInt32());
        Assert.Equal("gpt2", j.GetProperty("tokenizer_model").GetString());
        Assert.Equal(5, j.GetProperty("vocab_size").GetInt32());
        Assert.Equal(9, j.GetProperty("metadata_count").GetInt32());
        Assert.Equal(2, j.GetProperty("tensor_count").GetInt32());
        // 160 F32 values = 640 bytes; 512 Q8_0 values = 16 blocks of 34 bytes = 544 bytes.
        Assert.Equal(640 + 544, j.GetProperty("tensor_bytes").GetInt64());
        var types = j.GetProperty("tensor_types");
        Assert.Equal((1, 640L), (types.GetProperty("F32").GetProperty("count").GetInt32(), types.GetProperty("F32").GetProperty("bytes").GetInt64()));
        Assert.Equal((1, 544L), (types.GetProperty("Q8_0").GetProperty("count").GetInt32(), types.GetProperty("Q8_0").GetProperty("bytes").GetInt64()));
    }

    [Fact]
    public void Info_text_lists_architecture_and_bytes_per_type()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.Run("info", path, "--metadata");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("architecture:     llama", o.Out);
        Assert.Contains("context length:   256", o.Out);
        Assert.Contains("tokenizer:        gpt2, vocabulary 5", o.Out);
        Assert.Contains("tensors:          2, 1.2 KiB", o.Out);
        Assert.Matches(@"\n  F32\s+1 tensors\s+640 B\r?\n", o.Out);
        Assert.Matches(@"\n  Q8_0\s+1 tensors\s+544 B\r?\n", o.Out);
        Assert.Contains("  tokenizer.ggml.tokens = [array of 5 String]", o.Out);
    }

    [Fact]
    public void Tokenize_json_gives_ids_with_bos()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.Run(null, _ => new ByteTokenizer(), "tokenize", path, "hé", "--json");
        Assert.Equal(0, o.ExitCode);
        Assert.Equal("{\"ids\":[256,104,195,169]}", o.Out.TrimEnd());
        var none = _cli.Run(null, _ => new ByteTokenizer(), "tokenize", path, "h", "--json", "--no-bos");
        Assert.Equal("{\"ids\":[104]}", none.Out.TrimEnd());
    }

    [Fact]
    public void Tokenize_text_prints_one_token_per_line()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.Run(null, _ => new ByteTokenizer(), "tokenize", path, "hi");
        Assert.Equal(["   256 -> '<s>'", "   104 -> 'h'", "   105 -> 'i'"], o.Out.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public void Run_streams_the_text_and_prints_timings_on_stderr()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.RunFake("Hello, wörld", 64, "run", path, "-p", "hi", "--temp", "0");
        Assert.Equal(0, o.ExitCode);
        Assert.Equal("Hello, wörld" + Environment.NewLine, o.Out);
        Assert.Matches(@"^prefill: 3 tokens in \d+\.\d{3} s \(\d+\.\d tok/s\) \| decode: 13 tokens in \d+\.\d{3} s \(\d+\.\d tok/s\) \| sampling: \d+\.\d ms \| stop: end_of_generation\r?\n$", o.Error);
    }

    [Fact]
    public void Run_stops_at_any_of_several_stop_strings_and_at_n()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.RunFake("one. two! three", 64, "run", path, "-p", "hi", "--temp", "0", "--stop", "!", "--stop", "?");
        Assert.Equal("one. two" + Environment.NewLine, o.Out);
        Assert.Contains("stop: stop_string", o.Error);
        var n = _cli.RunFake("one. two! three", 64, "run", path, "-p", "hi", "--temp", "0", "-n", "3");
        Assert.Equal("one" + Environment.NewLine, n.Out);
        Assert.Contains("stop: max_tokens", n.Error);
    }

    [Fact]
    public void Run_json_prints_one_object_with_ids_text_and_timings()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.RunFake("ok ✓", 64, "run", path, "-p", "hi", "--temp", "0", "--json");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        Assert.Single(o.Out.TrimEnd().Split('\n'));
        using var doc = JsonDocument.Parse(o.Out);
        var j = doc.RootElement;
        Assert.Equal([256, 'h', 'i'], j.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("ok ✓"u8.ToArray().Select(b => (int)b), j.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("ok ✓", j.GetProperty("text").GetString());
        Assert.Contains("\"text\":\"ok ✓\"", o.Out); // readable, not \u-escaped
        Assert.Equal("end_of_generation", j.GetProperty("stop_reason").GetString());
        var t = j.GetProperty("timings");
        Assert.Equal(3, t.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(6, t.GetProperty("decode_tokens").GetInt32());
        Assert.Equal(7, t.GetProperty("sampled_tokens").GetInt32());
        foreach (var name in new[] { "prefill_ms", "prefill_tokens_per_second", "decode_ms", "decode_tokens_per_second", "sampling_ms" })
            Assert.True(t.GetProperty(name).GetDouble() >= 0, name);
    }

    [Fact]
    public void Run_with_the_same_seed_prints_the_same_text()
    {
        string path = _cli.WriteModel("m.gguf");
        // The hash-derived logits of the fake model make temperature-3 sampling spread over many ids.
        string[] args = ["run", path, "-p", "hi", "--temp", "3", "--top-k", "0", "--top-p", "1", "--min-p", "0", "-n", "24", "--json"];
        string Tokens(string seed) => JsonDocument.Parse(_cli.Run(_ => new FakeModel((p, t) => (p * 7 + t) % 256, vocabSize: 256), _ => new ByteTokenizerWithoutBos(), [.. args, "--seed", seed]).Out)
            .RootElement.GetProperty("tokens").GetRawText();
        Assert.Equal(Tokens("5"), Tokens("5"));
        Assert.NotEqual(Tokens("5"), Tokens("6"));
    }

    [Fact]
    public void Logits_writes_float32_rows_for_every_position()
    {
        string path = _cli.WriteModel("m.gguf");
        string outFile = Path.Combine(_cli.Directory, "logits.bin");
        var model = new FakeModel((p, t) => (p + t) % 259);
        var o = _cli.Run(_ => model, _ => new ByteTokenizer(), "logits", path, "--tokens", "256, 104,105", "--out", outFile);
        Assert.Equal(0, o.ExitCode);
        Assert.Contains($"wrote 3 x 259 float32 logits to {outFile}", o.Error);
        var bytes = File.ReadAllBytes(outFile);
        Assert.Equal(3 * 259 * 4, bytes.Length);
        int[] ids = [256, 104, 105];
        var expected = new float[259];
        for (int pos = 0; pos < 3; pos++)
        {
            model.Row(pos, ids[pos], expected);
            for (int v = 0; v < 259; v++)
                Assert.Equal(expected[v], BitConverter.ToSingle(bytes, (pos * 259 + v) * 4));
        }
    }

    [Fact]
    public void Run_without_a_model_uses_the_built_in_story_model()
    {
        var o = _cli.Run("run", "-p", "Once upon a time", "-n", "24", "--temp", "0", "--json");
        Assert.Equal(0, o.ExitCode);
        using var json = System.Text.Json.JsonDocument.Parse(o.Out);
        // The built-in tokenizer puts <|bos|> (1054) first, then the prompt's BPE tokens.
        Assert.Equal(1054, json.RootElement.GetProperty("prompt_tokens")[0].GetInt32());
        string text = json.RootElement.GetProperty("text").GetString()!;
        Assert.Matches("[a-z]+ [a-z]+", text);
    }

    [Fact]
    public void Demo_writes_its_model_once_and_generates_from_it()
    {
        var o = _cli.Run("run", "--demo", "-p", "hi", "-n", "4", "--temp", "0", "--json");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("wrote the demo model", o.Error);
        using var json = System.Text.Json.JsonDocument.Parse(o.Out);
        Assert.InRange(json.RootElement.GetProperty("tokens").GetArrayLength(), 1, 4);
        Assert.True(json.RootElement.GetProperty("prompt_tokens").GetArrayLength() >= 2);
        var again = _cli.Run("run", "--demo", "-p", "hi", "-n", "4", "--temp", "0", "--json");
        Assert.Equal(0, again.ExitCode);
        Assert.DoesNotContain("wrote the demo model", again.Error);
        using var againJson = System.Text.Json.JsonDocument.Parse(again.Out);
        Assert.Equal(json.RootElement.GetProperty("tokens").GetRawText(), againJson.RootElement.GetProperty("tokens").GetRawText());
        Assert.Empty(Directory.GetFiles(_cli.Directory, "*.partial", SearchOption.AllDirectories));
    }
}

/// <summary>The byte tokenizer with a 256-id vocabulary (no BOS), for models that only have byte ids.</summary>
internal sealed class ByteTokenizerWithoutBos : Frugal.Tokenization.Tokenizer
{
    private readonly ByteTokenizer _inner = new();
    public override int VocabSize => 256;
    public override int? BosId => null;
    public override int? EosId => null;
    public override bool AddBos => false;
    public override IReadOnlySet<int> EndOfGeneration { get; } = new HashSet<int>();
    public override int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true) => _inner.Encode(text, false, parseSpecial);
    public override byte[] TokenBytes(int id) => _inner.TokenBytes(id);
    public override string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false) => _inner.Decode(ids, skipSpecial);
}
