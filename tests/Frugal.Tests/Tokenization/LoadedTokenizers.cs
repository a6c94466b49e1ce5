using System.Collections.Concurrent;
using Frugal.Gguf;
using Frugal.Tests.Oracle;
using Frugal.Tokenization;

namespace Frugal.Tests.Tokenization;

/// <summary>Our tokenizer and llama.cpp's, both loaded once per test run from the same vocab-only GGUF.</summary>
public static class LoadedTokenizers
{
    private static readonly ConcurrentDictionary<(HfTokenizer, string), Lazy<Tokenizer>> Ours = new();
    private static readonly ConcurrentDictionary<(HfTokenizer, string), Lazy<LlamaCppVocab>> Oracles = new();

    public static Tokenizer Frugal(HfTokenizer which) => Frugal(which, HfVocabGguf.NativePre(which));

    public static LlamaCppVocab LlamaCpp(HfTokenizer which) => LlamaCpp(which, HfVocabGguf.NativePre(which));

    public static Tokenizer Frugal(HfTokenizer which, string pre) =>
        Ours.GetOrAdd((which, pre), key => new Lazy<Tokenizer>(() =>
        {
            using var file = GgufFile.Open(HfVocabGguf.PathFor(key.Item1, key.Item2));
            return Tokenizer.FromGguf(file);
        })).Value;

    public static LlamaCppVocab LlamaCpp(HfTokenizer which, string pre) =>
        Oracles.GetOrAdd((which, pre), key => new Lazy<LlamaCppVocab>(() => new LlamaCppVocab(HfVocabGguf.PathFor(key.Item1, key.Item2)))).Value;
}
