using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Frugal.Inference.Retention;
using System.Runtime.InteropServices;
using Frugal.Inference.Sampling;
using Frugal.Inference.Speculation;
using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Tokenization;

namespace Frugal.Inference.Generation;

/// <summary>
/// Prompt text -> tokens -> prefill -> decode loop for one sequence: samples each token, streams its text through a
/// UTF-8-safe decoder and the stop-string filter, and stops on end-of-generation tokens, the token limit, a stop
/// string or a full context.
/// </summary>
public sealed class TextGenerator
{
    private readonly ILanguageModel _model;
    private readonly Tokenizer _tokenizer;

    public TextGenerator(ILanguageModel model, Tokenizer tokenizer)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
    }

    /// <summary>The prompt's token ids as generation will see them.</summary>
    public int[] Tokenize(string prompt, GenerationOptions options) =>
        _tokenizer.Encode(prompt ?? throw new ArgumentNullException(nameof(prompt)), options.AddSpecial, options.ParseSpecial);

    /// <summary>Generates from <paramref name="prompt"/>, calling <paramref name="onPiece"/> as text becomes final.</summary>
    /// <exception cref="ArgumentException">the prompt is empty or longer than the context.</exception>
    public GenerationResult Generate(string prompt, GenerationOptions options, Action<GeneratedPiece>? onPiece = null,
        CancellationToken cancellationToken = default) =>
        Generate(Tokenize(prompt, options), options, onPiece, cancellationToken);

    /// <summary>Generates from prompt token ids.</summary>
    public GenerationResult Generate(IReadOnlyList<int> promptTokens, GenerationOptions options, Action<GeneratedPiece>? onPiece = null,
        CancellationToken cancellationToken = default)
    {
        var run = new Run(this, promptTokens, options);
        foreach (var piece in run.Pieces(cancellationToken))
            onPiece?.Invoke(piece);
        return run.Result!;
    }

    /// <summary>Streams the pieces of a generation. The work runs on the caller's enumeration, token by token.</summary>
    public async IAsyncEnumerable<GeneratedPiece> GenerateAsync(string prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var run = new Run(this, Tokenize(prompt, options), options);
        await Task.Yield(); // prefill must not run inside the caller's synchronous GetAsyncEnumerator/MoveNextAsync start
        foreach (var piece in run.Pieces(cancellationToken))
            yield return piece;
    }

    /// <summary>Whether a generation speculates: asked for, and nothing that cannot roll back drafts (a grammar, KIVI keys).</summary>
    internal static bool Speculates(GenerationOptions options) =>
        options.Speculation.Enabled && options.Grammar is null
        && !KvElementTypes.IsKivi(options.KvCacheTypes.Keys) && !KvElementTypes.IsKivi(options.KvCacheTypes.Values);

    /// <summary>The state of one generation.</summary>
    private sealed class Run
    {
        private readonly TextGenerator _owner;
        private readonly int[] _prompt;
        private readonly GenerationOptions _options;
        private readonly int _context;
        private readonly KvRetention _retention;

        public Run(TextGenerator owner, IReadOnlyList<int> prompt, GenerationOptions options)
        {
            ArgumentNullException.ThrowIfNull(prompt);
            ArgumentNullException.ThrowIfNull(options);
            _owner = owner;
            _prompt = prompt.ToArray();
            _options = options;
            var config = owner._model.Config;
            options.Speculation.Validate(config);
            _context = options.ContextLength ?? config.ContextLength;
            if (_prompt.Length == 0)
                throw new ArgumentException("the prompt has no tokens (empty text and no BOS): nothing to continue from", nameof(prompt));
            // Validated here so a bad budget is an ArgumentException naming KvRetention's property.
            _retention = new KvRetention(options.KvRetention, _context, KvTile.Positions,
                _prompt.Length > 0 && _prompt[0] == owner._tokenizer.BosId);
            // Only a budget lets a prompt pass the context: its positions are renumbered as it is evicted.
            if (_prompt.Length > _context && options.KvRetention.Budget is null)
                throw new ArgumentException($"the prompt is {_prompt.Length} tokens but the context holds only {_context}", nameof(prompt));
            for (int i = 0; i < _prompt.Length; i++)
                if ((uint)_prompt[i] >= (uint)config.VocabSize)
                    throw new ArgumentException($"prompt token #{i} is id {_prompt[i]}, outside the vocabulary [0, {config.VocabSize})", nameof(prompt));
        }

        public GenerationResult? Result { get; private set; }

        public IEnumerable<GeneratedPiece> Pieces(CancellationToken ct)
        {
            var model = _owner._model;
            int vocab = model.Config.VocabSize;
            int max = _options.MaxTokens;
            int cacheSize = max < 0 ? _context : (int)Math.Min(_context, (long)_prompt.Length + max);
            var cache = new BoundedSequence(model, _options.KvCacheTypes, cacheSize, _retention) { Compacted = _options.KvCompacted };
            var output = new TokenOutput(_owner._tokenizer, _options.Sampling, vocab, _context, _prompt, _options.StopStrings, _options.IgnoreEos, _options.Grammar);
            var logits = new float[vocab]; // [vocab] logits of the last evaluated position
            var generated = new List<int>();
            var text = new StringBuilder();

            var clock = Stopwatch.StartNew();
            for (int start = 0; start < _prompt.Length; start += _options.PrefillChunk)
            {
                ct.ThrowIfCancellationRequested();
                int n = Math.Min(_options.PrefillChunk, _prompt.Length - start);
                cache.Forward(_prompt.AsSpan(start, n), logits);
            }
            var prefill = clock.Elapsed;

            var decode = TimeSpan.Zero;
            var sampling = TimeSpan.Zero;
            int decodeTokens = 0;
            int[] one = new int[1];
            var speculator = Speculates(_options) ? new SequenceSpeculator(_options.Speculation, _options.Sampling, vocab, cacheSize) : null;
            var all = new List<int>(_prompt);               // prompt and output: what prompt lookup and the draft model read
            var steps = new List<TokenStep>();
            float[] rows = speculator is null ? [] : new float[(_options.Speculation.DraftMax + 1) * vocab]; // [1 + draft, vocab]
            var draft = Draft.None;
            int heldBefore = 0;
            long stepStart = 0;
            bool decoded = false;
            StopReason reason;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (max >= 0 && generated.Count >= max) { reason = StopReason.MaxTokens; break; }
                long t0 = Stopwatch.GetTimestamp();
                if (draft.Length == 0)
                {
                    steps.Clear();
                    steps.Add(output.Next(logits));
                }
                else
                {
                    int limit = max >= 0 ? max - generated.Count : int.MaxValue;
                    int accepted = output.NextDrafted(rows, draft.Tokens, draft.Probabilities, limit, steps);
                    speculator!.Record(draft, accepted);
                    cache.Truncate(heldBefore + 1 + accepted);
                }
                sampling += Stopwatch.GetElapsedTime(t0);
                if (decoded) speculator?.ObserveStep(draft.Length, steps.Count, Stopwatch.GetElapsedTime(stepStart).TotalSeconds);
                reason = StopReason.ContextFull;
                bool ended = false;
                foreach (var step in steps)
                {
                    if (step.EndOfGeneration) { reason = StopReason.EndOfGeneration; ended = true; if (decoded) decodeTokens++; break; }
                    int token = step.Token;
                    generated.Add(token);
                    all.Add(token);
                    text.Append(step.Text);
                    if (decoded) decodeTokens++;
                    yield return new GeneratedPiece(token, step.Text);
                    if (step.StopString) { reason = StopReason.StopString; ended = true; break; }
                }
                if (ended) break;
                if (max >= 0 && generated.Count >= max) { reason = StopReason.MaxTokens; break; }
                if (!cache.HasRoomFor(1)) { reason = StopReason.ContextFull; break; }

                // The last token is evaluated with this step's draft (if any) behind it, in one forward step.
                // Drafting counts as decode time: it is part of what a speculative step costs.
                t0 = stepStart = Stopwatch.GetTimestamp();
                int room = Math.Min(cache.Room - 1, max >= 0 ? max - generated.Count - 1 : int.MaxValue);
                draft = speculator?.Propose(CollectionsMarshal.AsSpan(all), others: 0, room) ?? Draft.None;
                if (draft.Length == 0)
                {
                    one[0] = all[^1];
                    cache.Forward(one, logits);
                }
                else
                {
                    heldBefore = cache.Count;
                    int[] chunk = [all[^1], .. draft.Tokens];
                    cache.Forward(chunk, rows.AsSpan(0, chunk.Length * vocab), allLogits: true);
                }
                decode += Stopwatch.GetElapsedTime(t0);
                decoded = true;
            }
            var (tail, stopped) = output.Finish();
            if (stopped) reason = StopReason.StopString;
            if (tail.Length > 0)
            {
                text.Append(tail);
                yield return new GeneratedPiece(-1, tail);
            }

            var timings = new GenerationTimings(_prompt.Length, prefill, decodeTokens, decode, generated.Count + (reason == StopReason.EndOfGeneration ? 1 : 0), sampling)
            {
                Speculation = speculator?.Counters ?? default,
            };
            Result = new GenerationResult(_prompt, generated, text.ToString(), reason, timings) { KvCompactions = cache.Compactions };
        }
    }
}
