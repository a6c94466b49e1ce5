using System.Globalization;

namespace Frugal.Evaluation;

/// <summary>
/// Addition and subtraction of numbers up to 999, one problem per document, with every number written
/// least-significant digit first and zero-padded to a fixed width: 123+456 is "321+654=9750" (579, padded to 0579,
/// reversed). With fixed widths and this digit order, each answer digit sits at a fixed distance from the two
/// operand digits it adds and from the pair before it (whose sum decides the carry), so a small transformer learns
/// it as a local rule (Lee et al. 2023, "Teaching Arithmetic to Small Transformers": reversed output and aligned
/// digits are what make small models learn addition from little data). Subtraction keeps a >= b, so answers are
/// never negative: 510-10 is "015-010=005" (500, 3 digits).
/// </summary>
public static class ArithmeticTask
{
    public const int OperandDigits = 3;

    /// <summary><paramref name="value"/> zero-padded to <paramref name="width"/> digits, least-significant first: Reverse(579, 4) = "9750".</summary>
    public static string Reverse(int value, int width)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "only non-negative numbers are written");
        var digits = value.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0').ToCharArray();
        if (digits.Length > width) throw new ArgumentOutOfRangeException(nameof(value), value, $"more than {width} digits");
        Array.Reverse(digits);
        return new string(digits);
    }

    /// <summary>Reads a number written by <see cref="Reverse"/> back: "9750" is 579.</summary>
    public static int Read(string reversed)
    {
        var digits = reversed.ToCharArray();
        Array.Reverse(digits);
        return int.Parse(new string(digits), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>The canonical form that decides the held-out split ("123+456", most-significant digit first).</summary>
    public static string Canonical(int a, char op, int b) => string.Create(CultureInfo.InvariantCulture, $"{a}{op}{b}");

    public static EvalItem Item(int a, char op, int b)
    {
        const int Max = 999;
        if (a is < 0 or > Max || b is < 0 or > Max)
            throw new ArgumentOutOfRangeException(nameof(a), $"{a}{op}{b}: operands must be 0..{Max}");
        (int answer, int width) = op switch
        {
            '+' => (a + b, OperandDigits + 1),
            '-' => (a - b, OperandDigits),
            _ => throw new ArgumentException($"operator '{op}' is not supported: expected '+' or '-'", nameof(op)),
        };
        if (answer < 0) throw new ArgumentException($"{a}-{b} is negative: subtraction keeps a >= b", nameof(b));
        string prompt = Reverse(a, OperandDigits) + op + Reverse(b, OperandDigits) + "=";
        return new EvalItem(prompt, Reverse(answer, width), Terminator: "");
    }

    /// <summary>
    /// Draws a problem; <paramref name="heldOut"/> picks which side of the split it must fall on. Training draws
    /// mostly 3-digit operands and some shorter ones (zero-padded), 1 in 4 a subtraction; held-out draws are always
    /// additions of two 3-digit numbers when <paramref name="threeDigitAddition"/> is set.
    /// </summary>
    public static EvalItem Draw(SplitMix64 rng, bool heldOut, bool threeDigitAddition)
    {
        while (true)
        {
            char op = threeDigitAddition || rng.Next(4) != 0 ? '+' : '-';
            int a = Operand(rng, threeDigitAddition), b = Operand(rng, threeDigitAddition);
            if (op == '-' && a < b) (a, b) = (b, a);
            if (HeldOutSplit.IsHeldOut(Canonical(a, op, b)) == heldOut) return Item(a, op, b);
        }
    }

    private static int Operand(SplitMix64 rng, bool threeDigits) =>
        threeDigits || rng.Next(5) != 0 ? rng.Next(100, 1000) : rng.Next(0, rng.Next(2) == 0 ? 10 : 100);
}
