using System.Text.Json;
using Frugal.Tests.Training;

namespace Frugal.Tests.Cli;

/// <summary>frugal run with --grammar, --grammar-file, --json-schema and --json-object on the built-in model.</summary>
public sealed class GrammarOptionTests : IDisposable
{
    private readonly CliHarness _cli = new();
    private static string Model => Path.Combine(ShippedModels.Directory, "frugal-main.gguf");

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Grammar_option_constrains_the_output()
    {
        var o = _cli.Run("run", Model, "-p", "Once upon a time", "-s", "5", "--grammar", "root ::= (\"cat\" | \"dog\") [0-9]{2}");
        Assert.Equal(0, o.ExitCode);
        Assert.Matches("^(cat|dog)[0-9]{2}\n$", o.Out);
    }

    [Fact]
    public void Grammar_file_and_json_schema_file_are_read()
    {
        string g = Path.Combine(_cli.Directory, "g.gbnf");
        File.WriteAllText(g, "# a yes or a no\nroot ::= \"yes\" | \"no\"\n");
        var o = _cli.Run("run", Model, "-p", "Once", "-s", "1", "--grammar-file", g);
        Assert.Equal(0, o.ExitCode);
        Assert.Matches("^(yes|no)\n$", o.Out);

        string s = Path.Combine(_cli.Directory, "s.json");
        File.WriteAllText(s, """{"type":"object","properties":{"n":{"type":"integer"},"w":{"enum":["up","down"]}},"required":["n","w"]}""");
        var j = _cli.Run("run", Model, "-p", "Once", "-s", "2", "--json-schema", "@" + s);
        Assert.Equal(0, j.ExitCode);
        var doc = JsonDocument.Parse(j.Out).RootElement;
        Assert.Equal(JsonValueKind.Number, doc.GetProperty("n").ValueKind);
        Assert.Contains(doc.GetProperty("w").GetString(), new[] { "up", "down" });
    }

    [Theory]
    [InlineData(new[] { "--grammar", "root ::= (\"a\"" }, "--grammar: grammar error at line 1, column 14: expected ')' to close the group")]
    [InlineData(new[] { "--grammar-file", "/no/such.gbnf" }, "--grammar-file: no such file '/no/such.gbnf'")]
    [InlineData(new[] { "--json-schema", "{\"type\":\"string\",\"format\":\"ipv6\"}" }, "--json-schema: string format 'ipv6' (at #) is not supported")]
    [InlineData(new[] { "--json-schema", "{nope" }, "--json-schema is not valid JSON")]
    [InlineData(new[] { "--json-object", "--grammar", "root ::= \"a\"" }, "give only one of --grammar")]
    public void Bad_grammar_options_are_one_clear_error(string[] extra, string message)
    {
        var o = _cli.Run(["run", Model, "-p", "x", .. extra]);
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("error: " + message, o.Error);
        Assert.DoesNotContain("   at ", o.Error);
    }
}
