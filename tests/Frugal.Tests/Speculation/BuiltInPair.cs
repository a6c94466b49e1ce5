using Frugal.Gguf;
using Frugal.Models;
using Frugal.Tests.Training;
using Frugal.Tokenization;

namespace Frugal.Tests.Speculation;

/// <summary>The shipped main and draft models (same tokenizer), loaded once for the speculation tests, which run one at a time (<see cref="Collection"/>).</summary>
internal static class BuiltInPair
{
    /// <summary>The xUnit collection of every test that runs the shared models: a model's forward scratch is not thread-safe.</summary>
    public const string Collection = "built-in pair";

    private static readonly Lazy<(ILanguageModel Main, ILanguageModel Draft, Tokenizer Tokenizer)> Pair = new(() =>
    {
        string main = Path.Combine(ShippedModels.Directory, "frugal-main.gguf");
        using var file = GgufFile.Open(main);
        return (ModelLoader.Load(main), ModelLoader.Load(Path.Combine(ShippedModels.Directory, "frugal-draft.gguf")), Tokenizer.FromGguf(file));
    });

    public static ILanguageModel Main => Pair.Value.Main;

    public static ILanguageModel Draft => Pair.Value.Draft;

    public static Tokenizer Tokenizer => Pair.Value.Tokenizer;

    public static string MainPath => Path.Combine(ShippedModels.Directory, "frugal-main.gguf");

    /// <summary>Prompts of every kind the benchmark uses: copies, stories, tasks, and text the models never saw.</summary>
    public static readonly string[] Prompts =
    [
        "Copy: red, cat, 17, ten, blue, dog, 42.\nAgain:",
        "Once upon a time",
        "Once upon a time there was a little fox named Tom. Tom liked to play in the park.",
        "321+654=",
        "The code for Anna is 4821. Tom went to the park. What is the code for Anna? The code",
        "zq xv 93 kkp lom ; ww qq",
        "Copy: apple, seven, green, house.\nAgain: apple, seven, green, house.\nCopy: apple, seven, green, house.\nAgain:",
        "Lily saw a big dog. The dog was happy. Lily saw a big dog. The dog",
    ];
}
