using System.Globalization;
using System.Text;

namespace Frugal.Evaluation;

/// <summary>
/// Chained addition with a worked scratchpad: the sum of 3 to 7 two-digit numbers, added two at a time in an order
/// the model chooses. Numbers are written as in <see cref="ArithmeticTask"/> (least-significant digit first,
/// operands zero-padded to 3 digits, sums to 4), so each step is an addition the model already knows:
/// <code>
/// Sum: 740 810 390 520
/// 810+520=3400
/// 340+740=0900
/// 090+390=3810
/// </code>
/// (47+18+93+25 = 183: 18+25 = 43, 43+47 = 90, 90+93 = 183). Each step carries the previous sum (its first three
/// digits) and adds one operand not used yet; the answer is the last step's sum, then end-of-sequence. Training
/// documents add the operands in a random order, so the model learns that any unused operand may come next: sampled
/// scratchpads take different paths, and their slips (an operand used twice or skipped, a digit dropped) land on
/// different wrong sums while the right paths all agree. That is the shape where voting beats one greedy path
/// (self-consistency), which the built-in model's one-shot tasks lack: there its samples agree with greedy.
/// The canonical form for the held-out split is the sorted operands ("18+25+47+93"): the order of a sum, in the
/// prompt or the scratchpad, does not make a new item.
/// </summary>
public static class ChainTask
{
    /// <summary>Operand counts of training documents.</summary>
    public const int MinOperands = 3, MaxOperands = 7;

    /// <summary>Operand counts of the held-out <see cref="EvalTask.Chain"/> family (the harder end of training's range).</summary>
    public const int HeldOutMinOperands = 5, HeldOutMaxOperands = 7;

    private const int OperandWidth = ArithmeticTask.OperandDigits, SumWidth = ArithmeticTask.OperandDigits + 1;

    /// <summary>An item of <paramref name="minOperands"/> to <paramref name="maxOperands"/> two-digit operands on the asked side of the split.</summary>
    public static EvalItem Draw(SplitMix64 rng, bool heldOut, int minOperands = HeldOutMinOperands, int maxOperands = HeldOutMaxOperands) =>
        Item(DrawOperands(rng, heldOut, minOperands, maxOperands));

    private static int[] DrawOperands(SplitMix64 rng, bool heldOut, int minOperands, int maxOperands)
    {
        while (true)
        {
            var operands = new int[rng.Next(minOperands, maxOperands + 1)];
            for (int i = 0; i < operands.Length; i++) operands[i] = rng.Next(10, 100);
            if (HeldOutSplit.IsHeldOut(Canonical(operands)) == heldOut) return operands;
        }
    }

    /// <summary>The item for these operands: its scratchpad adds them in the listed order.</summary>
    public static EvalItem Item(IReadOnlyList<int> operands)
    {
        ArgumentNullException.ThrowIfNull(operands);
        if (operands.Count < 2) throw new ArgumentException($"a chained sum needs at least 2 operands, got {operands.Count}", nameof(operands));
        foreach (int x in operands)
            if (x is < 0 or > 99) throw new ArgumentOutOfRangeException(nameof(operands), x, "operands must be 0..99");
        return new EvalItem(Prompt(operands), ArithmeticTask.Reverse(operands.Sum(), SumWidth), Terminator: "", Scratchpad: Scratchpad(operands));
    }

    /// <summary>A training document: the item's prompt, then its operands added in a random order.</summary>
    public static string TrainingDocument(SplitMix64 rng, int minOperands = MinOperands, int maxOperands = MaxOperands)
    {
        var operands = DrawOperands(rng, heldOut: false, minOperands, maxOperands);
        string prompt = Prompt(operands);
        for (int i = operands.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (operands[i], operands[j]) = (operands[j], operands[i]);
        }
        return prompt + Scratchpad(operands);
    }

    /// <summary>
    /// The answer of a worked continuation: the sum after the last "=", when the continuation is a whole scratchpad
    /// (every line but the last ends in a newline, the last is the final sum); null when there is none.
    /// </summary>
    public static string? FinalSum(string continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        int eq = continuation.LastIndexOf('=');
        if (eq < 0) return null;
        string sum = continuation[(eq + 1)..];
        return sum.Length == SumWidth && sum.All(char.IsAsciiDigit) ? sum : null;
    }

    /// <summary>The canonical form that decides the held-out split: the operands sorted, most-significant digit first.</summary>
    public static string Canonical(IEnumerable<int> operands) =>
        string.Join('+', operands.Order().Select(x => x.ToString(CultureInfo.InvariantCulture)));

    private static string Prompt(IEnumerable<int> operands) =>
        "Sum: " + string.Join(' ', operands.Select(x => ArithmeticTask.Reverse(x, OperandWidth))) + "\n";

    private static string Scratchpad(IReadOnlyList<int> order)
    {
        var text = new StringBuilder();
        int sum = order[0];
        for (int i = 1; i < order.Count; i++)
        {
            if (i > 1) text.Append('\n');
            text.Append(ArithmeticTask.Reverse(sum, OperandWidth)).Append('+').Append(ArithmeticTask.Reverse(order[i], OperandWidth)).Append('=');
            sum += order[i];
            text.Append(ArithmeticTask.Reverse(sum, SumWidth));
        }
        return text.ToString();
    }
}
