namespace Frugal.Evaluation;

/// <summary>
/// Copying a list: "Copy: red, cat, ten.\nAgain: red, cat, ten.\n". The prompt ends after "Again:" and the greedy
/// continuation must reproduce the list exactly (3 to 10 items drawn from <see cref="WordLists.ListItems"/> and
/// numbers 0-99).
/// </summary>
public static class CopyTask
{
    public static EvalItem Draw(SplitMix64 rng, bool heldOut)
    {
        while (true)
        {
            int count = rng.Next(3, 11);
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
