using System.Globalization;

namespace Frugal.Evaluation;

/// <summary>
/// Addition and subtraction of up to 3-digit numbers, one problem per document: "123+456=975". The answer is
/// written least-significant digit first (579 reversed is 975), so each answer digit depends only on digits already
/// seen plus a carry: small transformers learn this order far faster (Lee et al. 2023, "Teaching Arithmetic to Small
/// Transformers"). Subtraction keeps a >= b, so answers are never negative; "510-10=" answers "005" (500 reversed).
/// </summary>
public static class ArithmeticTask
{
    public static string Reverse(int value)
    {
        var digits = value.ToString(CultureInfo.InvariantCulture).ToCharArray();
        Array.Reverse(digits);
        return new string(digits);
    }

    /// <summary>The canonical form that decides the held-out split ("123+456").</summary>
    public static string Canonical(int a, char op, int b) => string.Create(CultureInfo.InvariantCulture, $"{a}{op}{b}");

    public static EvalItem Item(int a, char op, int b)
    {
        int answer = op switch
        {
            '+' => a + b,
            '-' => a - b,
            _ => throw new ArgumentException($"operator '{op}' is not supported: expected '+' or '-'", nameof(op)),
        };
        if (answer < 0) throw new ArgumentException($"{a}-{b} is negative: subtraction keeps a >= b", nameof(b));
        return new EvalItem(Canonical(a, op, b) + "=", Reverse(answer), Terminator: "");
    }

    /// <summary>
    /// Draws a problem; <paramref name="heldOut"/> picks which side of the split it must fall on. Training draws
    /// mostly 3-digit operands and some shorter ones; held-out draws are always 3-digit additions when
    /// <paramref name="threeDigitAddition"/> is set.
    /// </summary>
    public static EvalItem Draw(SplitMix64 rng, bool heldOut, bool threeDigitAddition)
    {
        while (true)
        {
            char op = threeDigitAddition || rng.Next(3) != 0 ? '+' : '-';
            int a = Operand(rng, threeDigitAddition), b = Operand(rng, threeDigitAddition);
            if (op == '-' && a < b) (a, b) = (b, a);
            if (HeldOutSplit.IsHeldOut(Canonical(a, op, b)) == heldOut) return Item(a, op, b);
        }
    }

    private static int Operand(SplitMix64 rng, bool threeDigits) =>
        threeDigits || rng.Next(5) != 0 ? rng.Next(100, 1000) : rng.Next(0, rng.Next(2) == 0 ? 10 : 100);
}
