namespace Frugal.Inference.Speculation;

/// <summary>
/// Prompt lookup decoding (Saxena 2023; llama.cpp's <c>lookup</c>): the last n tokens of the sequence (n from
/// <see cref="MaxNgram"/> down to <see cref="MinNgram"/>) are searched for in its earlier tokens, latest occurrence
/// first, and the tokens that followed it are the draft. No model runs; a draft is one-hot (q = 1 on each token).
/// </summary>
public static class PromptLookupDrafter
{
    public const int MaxNgram = 4;
    public const int MinNgram = 2;

    /// <summary>Writes up to <paramref name="drafts"/>.Length drafted tokens and returns how many.</summary>
    public static int Draft(ReadOnlySpan<int> history, Span<int> drafts)
    {
        int len = history.Length;
        if (drafts.IsEmpty) return 0;
        for (int n = Math.Min(MaxNgram, len - 1); n >= MinNgram; n--)
        {
            var pattern = history[(len - n)..];
            // Latest earlier occurrence whose continuation is not the pattern itself.
            for (int j = len - n - 1; j >= 0; j--)
            {
                if (history[j] != pattern[0] || !history.Slice(j, n).SequenceEqual(pattern)) continue;
                int from = j + n;
                int count = Math.Min(drafts.Length, len - from);
                if (count <= 0) continue;
                history.Slice(from, count).CopyTo(drafts);
                return count;
            }
        }
        return 0;
    }
}
