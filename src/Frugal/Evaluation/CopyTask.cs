namespace Frugal.Evaluation;

/// <summary>
/// Copying a list: "Copy: red, cat, ten.\nAgain: red, cat, ten.\n". The prompt ends after "Again:" and the greedy
/// continuation must reproduce the list exactly (3 to 10 items drawn from <see cref="WordLists.ListItems"/> and
/// numbers 0-99).
/// </summary>
public static class CopyTask
{
    /// <summary>List lengths of training and of the <see cref="EvalTask.Copy"/> set.</summary>
    public const int MinItems = 3, MaxItems = 10;

    /// <summary>List lengths of <see cref="EvalTask.CopyLong"/>: past anything training emits.</summary>
    public const int LongMinItems = 11, LongMaxItems = 14;

    /// <summary>A list of <paramref name="minItems"/> to <paramref name="maxItems"/> items on the asked side of the split (its canonical form is the list).</summary>
    public static EvalItem Draw(SplitMix64 rng, bool heldOut, int minItems = MinItems, int maxItems = MaxItems)
    {
        while (true)
        {
            int count = rng.Next(minItems, maxItems + 1);
            var items = new string[count];
            for (int i = 0; i < count; i++)
                items[i] = rng.Next(5) == 0 ? rng.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture) : rng.Pick(WordLists.ListItems);
            string list = string.Join(", ", items) + ".";
            if (HeldOutSplit.IsHeldOut(list) == heldOut)
                return new EvalItem($"Copy: {list}\nAgain:", " " + list);
        }
    }

    public static string Document(EvalItem item) => item.Prompt + item.Expected + item.Terminator;
}
