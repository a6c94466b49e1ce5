using Frugal.Gguf;
using Frugal.Numerics;
using Frugal.Tests.Inference;

namespace Frugal.Tests.Cli;

/// <summary>Every error a user can cause ends with a non-zero exit and one clear line on stderr, never a stack trace.</summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static void AssertCleanFailure(CliHarness.Outcome o, string expected)
    {
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains(expected, o.Error);
        Assert.DoesNotContain("   at ", o.Error + o.Out);
        Assert.DoesNotContain("Exception", o.Error);
    }

    public static TheoryData<string> EveryCommand => ["info", "run", "tokenize", "logits"];

    private static string[] Args(string command, string path) => command switch
    {
        "run" => ["run", path, "-p", "hi"],
        "tokenize" => ["tokenize", path, "hi"],
        "logits" => ["logits", path, "--tokens", "1,2", "--out", path + ".logits"],
        _ => ["info", path],
    };

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public void Missing_file_is_reported(string command)
    {
        string path = Path.Combine(_cli.Directory, "absent.gguf");
        var o = _cli.Run(Args(command, path));
        AssertCleanFailure(o, "error: model file not found: '" + path + "'");
    }

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public void Non_gguf_file_is_reported(string command)
    {
        string path = _cli.WriteBytes("notes.txt", "just some text, not a model"u8.ToArray());
        AssertCleanFailure(_cli.Run(Args(command, path)), "magic at offset 0: expected 'GGUF', found 0x7473756A: not a GGUF file");
    }

    [Fact]
    public void Empty_file_is_reported()
    {
        string path = _cli.WriteBytes("empty.gguf", []);
        AssertCleanFailure(_cli.Run("info", path), "the file is empty: not a GGUF file");
    }

    [Fact]
    public void Malformed_gguf_reports_the_format_exception_message()
    {
        var good = File.ReadAllBytes(_cli.WriteModel("good.gguf"));
        string path = _cli.WriteBytes("cut.gguf", good[..(good.Length - 7)]);
        string expected;
        try { GgufFile.Open(path).Dispose(); expected = "(opened)"; }
        catch (GgufFormatException e) { expected = e.Message; }
        Assert.Contains("runs past the end of the file", expected);
        AssertCleanFailure(_cli.Run("info", path), "error: " + expected);
    }

    [Fact]
    public void Unknown_tensor_type_id_is_reported()
    {
        var bytes = File.ReadAllBytes(_cli.WriteModel("q.gguf", secondType: GgmlType.Q8_0));
        // Patch the second tensor's type field (Q8_0 = 8) to an id ggml never defined.
        int at = FindTypeField(bytes, "blk.0.attn_q.weight", dims: 2);
        Assert.Equal(8u, BitConverter.ToUInt32(bytes, at));
        BitConverter.GetBytes(77u).CopyTo(bytes, at);
        AssertCleanFailure(_cli.Run("info", _cli.WriteBytes("bad-type.gguf", bytes)), "unknown tensor type id 77");
    }

    private static int FindTypeField(byte[] bytes, string name, int dims)
    {
        var key = System.Text.Encoding.UTF8.GetBytes(name);
        int i = bytes.AsSpan().IndexOf(key);
        return i + key.Length + 4 + 8 * dims; // name, n_dims, ne[]
    }

    [Fact]
    public void Unknown_architecture_is_reported_by_run_with_the_product_loader()
    {
        string path = _cli.WriteModel("mamba.gguf", architecture: "mamba9");
        AssertCleanFailure(_cli.Run("run", path, "-p", "hi"), "mamba9");
    }

    [Fact]
    public void A_model_with_a_tensor_type_the_engine_cannot_run_fails_cleanly()
    {
        // IQ1_M is a valid GGUF type that the loader does not run: info describes it, run refuses it in one line.
        string path = _cli.WriteModel("iq.gguf", secondType: GgmlType.IQ1_M);
        var info = _cli.Run("info", path);
        Assert.Equal(0, info.ExitCode);
        Assert.Contains("IQ1_M", info.Out);
        var run = _cli.Run("run", path, "-p", "hi");
        AssertCleanFailure(run, "error: ");
        Assert.Single(run.Error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--temp", "-1", "--temp: Temperature must be a finite number >= 0")]
    [InlineData("--top-p", "2", "--top-p: TopP must be a number in [0, 1]")]
    [InlineData("--top-k", "-3", "--top-k: TopK must be an integer >= 0")]
    [InlineData("--min-p", "1.5", "--min-p: MinP must be a number in [0, 1]")]
    [InlineData("--repeat-penalty", "0", "--repeat-penalty: RepeatPenalty must be a finite number > 0")]
    [InlineData("--repeat-last-n", "-7", "--repeat-last-n: PenaltyLastN must be an integer >= -1")]
    [InlineData("-n", "-5", "-n: MaxTokens must be >= -1")]
    [InlineData("--ctx-size", "0", "--ctx-size: ContextLength must be positive")]
    [InlineData("--stop", "", "--stop: stop strings must not be empty")]
    [InlineData("-n", "abc", "Cannot parse argument 'abc' for option '--n-predict'")]
    [InlineData("--seed", "-1", "Cannot parse argument '-1' for option '--seed'")]
    public void Bad_option_values_name_the_option(string option, string value, string expected)
    {
        string path = _cli.WriteModel("m.gguf");
        AssertCleanFailure(_cli.RunFake("ok", 64, "run", path, "-p", "hi", option, value), expected);
    }

    [Fact]
    public void Run_needs_a_prompt_and_at_most_one_of_model_or_demo()
    {
        string path = _cli.WriteModel("m.gguf");
        AssertCleanFailure(_cli.RunFake("ok", 64, "run", path), "missing prompt: give -p TEXT, -f FILE, or pipe text on standard input");
        _cli.DefaultModelPath = Path.Combine(_cli.Directory, "absent.gguf");
        AssertCleanFailure(_cli.Run("run", "-p", "hi"), "the built-in model is missing");
        AssertCleanFailure(_cli.RunFake("ok", 64, "run", path, "--demo"), "give either MODEL or --demo, not both");
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_reported()
    {
        string path = _cli.WriteModel("m.gguf");
        AssertCleanFailure(_cli.RunFake("ok", 4, "run", path, "-p", "hello"), "error: the prompt is 6 tokens but the context holds only 4\n");
    }

    [Fact]
    public void Logits_rejects_bad_token_lists()
    {
        string path = _cli.WriteModel("m.gguf");
        string outFile = Path.Combine(_cli.Directory, "l.bin");
        AssertCleanFailure(_cli.RunFake("", 64, "logits", path, "--tokens", "1,x,3", "--out", outFile), "--tokens: 'x' is not a token id");
        AssertCleanFailure(_cli.RunFake("", 64, "logits", path, "--tokens", "1,259", "--out", outFile), "--tokens: id 259 (position 1) is outside the vocabulary [0, 259)");
        Assert.False(File.Exists(outFile));
    }

    [Fact]
    public void An_internal_failure_prints_one_line_without_a_stack_trace()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.Run(_ => throw new InvalidOperationException("boom"), _ => new ByteTokenizer(), "run", path, "-p", "hi");
        Assert.Equal(1, o.ExitCode);
        Assert.Equal("error: internal error (InvalidOperationException): boom", o.Error.Trim());
    }
}
