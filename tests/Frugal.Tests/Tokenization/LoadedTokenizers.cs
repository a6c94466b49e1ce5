using Frugal.Gguf;
using Frugal.Tests.Oracle;
using Frugal.Tokenization;

namespace Frugal.Tests.Tokenization;

/// <summary>Our tokenizer and llama.cpp's, both loaded once per test run from the same vocab-only GGUF.</summary>
public static class LoadedTokenizers
{
    private static readonly Dictionary<HfTokenizer, Lazy<Tokenizer>> Ours = Enum.GetValues<HfTokenizer>()
        .ToDictionary(t => t, t => new Lazy<Tokenizer>(() =>
        {
            using var file = GgufFile.Open(HfVocabGguf.PathFor(t));
            return Tokenizer.FromGguf(file);
        }));

    private static readonly Dictionary<HfTokenizer, Lazy<LlamaCppVocab>> Oracles = Enum.GetValues<HfTokenizer>()
        .ToDictionary(t => t, t => new Lazy<LlamaCppVocab>(() => new LlamaCppVocab(HfVocabGguf.PathFor(t))));

    public static Tokenizer Frugal(HfTokenizer which) => Ours[which].Value;

    public static LlamaCppVocab LlamaCpp(HfTokenizer which) => Oracles[which].Value;
}
