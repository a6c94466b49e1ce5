using System.Text;

namespace Frugal.Evaluation;

/// <summary>
/// Short simple-English stories from a small grammar: a setting, a character with an animal friend, a found
/// object, an event, a feeling, an ending. Each sentence slot has several templates so the text is varied but
/// learnable by a model of a few million parameters.
/// </summary>
public static class StoryGrammar
{
    public static string Story(SplitMix64 rng)
    {
        var s = new StoryCast(rng);
        var sb = new StringBuilder();
        sb.Append(Opening(rng, s));
        int middle = rng.Next(2, 5);
        for (int i = 0; i < middle; i++) sb.Append(' ').Append(Middle(rng, s));
        sb.Append(' ').Append(Ending(rng, s));
        return sb.ToString();
    }

    /// <summary>
    /// One middle-of-story sentence with a fresh cast: the filler between facts in recall documents. Never an opening
    /// ("Once upon a time, ...") or an ending: recall filler is most of the story-like text the model is trained on,
    /// and when it held openings too, a prompt "Once upon a time" was as likely the start of a recall document as of a
    /// story, and sampled continuations drifted into "The code for X is ..." sentences.
    /// </summary>
    public static string Sentence(SplitMix64 rng) => Middle(rng, new StoryCast(rng));

    private sealed class StoryCast(SplitMix64 rng)
    {
        public readonly string Name = rng.Pick(WordLists.Names);
        public readonly string Friend = rng.Pick(WordLists.Names);
        public readonly string Animal = rng.Pick(WordLists.Animals);
        public readonly string Adjective = rng.Pick(WordLists.Adjectives);
        public readonly string Object = rng.Pick(WordLists.Objects);
        public readonly string Color = rng.Pick(WordLists.Colors);
        public readonly string Place = rng.Pick(WordLists.Places);
        public readonly string Food = rng.Pick(WordLists.Foods);
    }

    private static string Opening(SplitMix64 rng, StoryCast s) => rng.Next(5) switch
    {
        0 => $"Once upon a time, there was a {s.Adjective} {s.Animal} named {s.Name}.",
        1 => $"One {rng.Pick(WordLists.Weather)} day, {s.Name} went to {s.Place}.",
        2 => $"{s.Name} was a {s.Adjective} {s.Animal} who lived near {s.Place}.",
        3 => $"There was a {s.Adjective} {s.Animal} in {s.Place}. Its name was {s.Name}.",
        _ => $"Every morning, {s.Name} and {s.Friend} played in {s.Place}.",
    };

    private static string Middle(SplitMix64 rng, StoryCast s) => rng.Next(12) switch
    {
        0 => $"{s.Name} found a {s.Color} {s.Object} under a tree.",
        1 => $"{s.Name} saw a {rng.Pick(WordLists.Adjectives)} {rng.Pick(WordLists.Animals)} near {s.Place}.",
        2 => $"\"Look at my {s.Object}!\" said {s.Name}.",
        3 => $"{s.Friend} gave {s.Name} some {s.Food}.",
        4 => $"{s.Name} felt {rng.Pick(WordLists.Feelings)}.",
        5 => $"They {rng.Pick(WordLists.Actions)} together.",
        6 => $"{s.Name} wanted to share the {s.Object} with {s.Friend}.",
        7 => $"The {s.Object} was {s.Color} and {rng.Pick(WordLists.Adjectives)}.",
        8 => $"{s.Name} asked, \"Can I play with you?\" and {s.Friend} said yes.",
        9 => $"Then it started to rain, so {s.Name} ran home.",
        10 => $"{s.Name} and {s.Friend} ate {s.Food} in {s.Place}.",
        _ => $"{s.Name} {rng.Pick(WordLists.Actions)} and then went to {s.Place}.",
    };

    private static string Ending(SplitMix64 rng, StoryCast s) => rng.Next(5) switch
    {
        0 => $"In the end, {s.Name} was very {rng.Pick(WordLists.Feelings)}.",
        1 => $"{s.Name} and {s.Friend} became best friends.",
        2 => $"That night, {s.Name} went to sleep with a big smile.",
        3 => $"From that day on, {s.Name} always kept the {s.Object} close.",
        _ => $"It was the best day ever.",
    };
}
