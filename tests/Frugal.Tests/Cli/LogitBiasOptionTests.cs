using System.Text.Json;

namespace Frugal.Tests.Cli;

/// <summary><c>run -l/--logit-bias TOKEN_ID(+|-)BIAS</c> over the scripted fake model (its scripted token has logit 8, the rest within [-1, 1]).</summary>
public sealed class LogitBiasOptionTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private int[] Tokens(params string[] args)
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.RunFake("hello", 64, ["run", path, "-p", "x", "--temp", "0", "--json", .. args]);
        Assert.True(o.ExitCode == 0, o.Error);
        return JsonDocument.Parse(o.Out).RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
    }

    [Fact]
    public void A_bias_above_the_gap_forces_a_token_and_minus_inf_bans_one()
    {
        Assert.Equal("hel"u8.ToArray().Select(b => (int)b), Tokens("-n", "3"));
        // 'z' (122) at most 1 + 10 = 11 beats the scripted 8 at every step; +5 (at most 6) never does.
        Assert.Equal([122, 122, 122], Tokens("-n", "3", "--logit-bias", "122+10"));
        Assert.Equal("hel"u8.ToArray().Select(b => (int)b), Tokens("-n", "3", "-l", "122+5"));
        int[] banned = Tokens("-n", "1", "-l", "104-inf", "-l", "122+0.5");
        Assert.NotEqual(104, banned[0]);
        Assert.Equal([101], Tokens("-n", "1", "-l", "104-100", "-l", "101+9"));
    }

    [Theory]
    [InlineData("122", "expected TOKEN_ID+BIAS")]
    [InlineData("abc+1", "expected TOKEN_ID+BIAS")]
    [InlineData("-5+1", "expected TOKEN_ID+BIAS")]
    [InlineData("122+x", "must be a non-negative number")]
    [InlineData("122+inf", "must be a non-negative number")]
    [InlineData("9999+1", "outside the model's vocabulary [0, 259)")]
    public void A_malformed_bias_is_an_error_naming_the_option(string value, string message)
    {
        string path = _cli.WriteModel("m.gguf");
        var o = _cli.RunFake("hello", 64, "run", path, "-p", "x", "-n", "1", "--logit-bias", value);
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains("--logit-bias", o.Error);
        Assert.Contains(message, o.Error);
    }
}
