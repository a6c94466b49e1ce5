using System.Text.Json;

namespace Frugal.Tests.Cli;

/// <summary>Text a person types is taken as text, and a prompt may also come from a file (-f) or a pipe.</summary>
public sealed class PromptInputTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>The prompt ids the fake model saw: BOS then the UTF-8 bytes of the prompt.</summary>
    private static int[] PromptIds(CliHarness.Outcome o)
    {
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        using var doc = JsonDocument.Parse(o.Out);
        return doc.RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    private static int[] Ids(string prompt) => [256, .. System.Text.Encoding.UTF8.GetBytes(prompt).Select(b => (int)b)];

    [Fact]
    public void A_prompt_starting_with_an_at_sign_is_text_not_a_response_file()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.RunFake("ok", 64, "run", path, "-p", "@alice hello", "--json");
        Assert.Equal(Ids("@alice hello"), PromptIds(o));
    }

    [Fact]
    public void Tokenize_takes_text_starting_with_an_at_sign_as_text()
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.RunFake("", 64, "tokenize", path, "@bob", "--json");
        Assert.Equal((0, ""), (o.ExitCode, o.Error));
        Assert.Equal("{\"ids\":[256,64,98,111,98]}", o.Out.Trim());
    }

    [Fact]
    public void Run_reads_the_prompt_from_a_file_without_its_final_newline()
    {
        string path = _cli.WriteModel("m.gguf");
        string prompt = _cli.WriteBytes("prompt.txt", "line one\nzwei é\n"u8.ToArray());
        Assert.Equal(Ids("line one\nzwei é"), PromptIds(_cli.RunFake("ok", 64, "run", path, "-f", prompt, "--json")));
        Assert.Equal(Ids("line one\nzwei é"), PromptIds(_cli.RunFake("ok", 64, "run", path, "--file", prompt, "--json")));
    }

    [Fact]
    public void Run_reads_a_piped_prompt_from_standard_input()
    {
        string path = _cli.WriteModel("m.gguf");
        _cli.Stdin = "piped words\n";
        var o = _cli.RunFake("ok", 64, "run", path, "--json");
        Assert.Equal(Ids("piped words"), PromptIds(o));
    }

    [Fact]
    public void A_prompt_given_with_p_wins_over_piped_input()
    {
        string path = _cli.WriteModel("m.gguf");
        _cli.Stdin = "ignored\n";
        Assert.Equal(Ids("hi"), PromptIds(_cli.RunFake("ok", 64, "run", path, "-p", "hi", "--json")));
    }

    [Fact]
    public void Run_refuses_both_p_and_f()
    {
        string path = _cli.WriteModel("m.gguf");
        string prompt = _cli.WriteBytes("prompt.txt", "x"u8.ToArray());
        var o = _cli.RunFake("ok", 64, "run", path, "-p", "hi", "-f", prompt);
        Assert.Equal((1, "", "error: give either -p/--prompt or -f/--file, not both"), (o.ExitCode, o.Out, o.Error.TrimEnd()));
    }

    [Fact]
    public void A_missing_prompt_file_is_named()
    {
        string path = _cli.WriteModel("m.gguf");
        string absent = Path.Combine(_cli.Directory, "absent.txt");
        var o = _cli.RunFake("ok", 64, "run", path, "-f", absent);
        Assert.Equal((1, $"error: -f/--file: prompt file not found: '{absent}'"), (o.ExitCode, o.Error.TrimEnd()));
        var dir = _cli.RunFake("ok", 64, "run", path, "-f", _cli.Directory);
        Assert.Equal((1, $"error: -f/--file: '{_cli.Directory}' is a directory, not a text file"), (dir.ExitCode, dir.Error.TrimEnd()));
    }

    [Fact]
    public void Empty_piped_input_is_no_prompt()
    {
        string path = _cli.WriteModel("m.gguf");
        _cli.Stdin = "";
        var o = _cli.RunFake("ok", 64, "run", path);
        Assert.Equal((1, "error: missing prompt: give -p TEXT, -f FILE, or pipe text on standard input"), (o.ExitCode, o.Error.TrimEnd()));
    }
}
