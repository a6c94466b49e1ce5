using System.CommandLine;
using System.Globalization;

namespace Frugal.Cli.Commands;

/// <summary>
/// llama.cpp's <c>-l/--logit-bias TOKEN_ID(+|-)BIAS</c>, repeatable: <c>15043+1</c> raises token 15043's logit by 1,
/// <c>15043-1</c> lowers it, <c>15043-inf</c> bans it.
/// </summary>
internal static class LogitBiasOption
{
    public static Option<string[]> Create() => new("--logit-bias", "-l")
    {
        Description = "add BIAS to a token's logit: TOKEN_ID+BIAS or TOKEN_ID-BIAS (-inf bans it; repeatable)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    /// <summary>The biases by token id; a later entry for the same id replaces an earlier one.</summary>
    /// <param name="vocab">the model's vocabulary size, which every id must be below.</param>
    public static Dictionary<int, float> Parse(IEnumerable<string>? values, int vocab)
    {
        var bias = new Dictionary<int, float>();
        foreach (string value in values ?? [])
        {
            int sign = value.IndexOfAny(['+', '-'], 1);
            if (sign < 0 || !int.TryParse(value.AsSpan(0, sign), NumberStyles.None, CultureInfo.InvariantCulture, out int token))
                throw new CliError($"--logit-bias: expected TOKEN_ID+BIAS or TOKEN_ID-BIAS (e.g. 15043+1, 15043-inf), got '{value}'");
            if (token >= vocab)
                throw new CliError($"--logit-bias: token {token} is outside the model's vocabulary [0, {vocab})");
            string amount = value[(sign + 1)..];
            float magnitude = amount.Equals("inf", StringComparison.OrdinalIgnoreCase) && value[sign] == '-' ? float.PositiveInfinity
                : float.TryParse(amount, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) && v >= 0 ? v
                : throw new CliError($"--logit-bias: the bias in '{value}' must be a non-negative number after the sign (or -inf), got '{amount}'");
            bias[token] = value[sign] == '-' ? -magnitude : magnitude;
        }
        return bias;
    }
}
