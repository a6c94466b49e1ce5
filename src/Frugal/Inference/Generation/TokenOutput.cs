using Frugal.Inference.Constraints;
using Frugal.Inference.Sampling;
using Frugal.Tokenization;

namespace Frugal.Inference.Generation;

/// <summary>What one sampling step produced: the token, the text it releases, and whether generation ends here.</summary>
/// <param name="EndOfGeneration">the token is end-of-generation: it is not part of the output and released no text.</param>
/// <param name="StopString">a stop string completed; the text before it was released, the rest is dropped.</param>
public readonly record struct TokenStep(int Token, string Text, bool EndOfGeneration, bool StopString);

/// <summary>
/// The one rule every generated token follows, whichever loop drives the forward steps (<see cref="TextGenerator"/> for
/// a single sequence, the engine for many): sample from the logits, end at an end-of-generation token, release text
/// through the streaming detokenizer (control tokens print nothing, UTF-8 is never split) and the stop-string filter.
/// With a grammar, every token the grammar refuses gets a -infinity logit before the sampler sees the row, and a step
/// where only one token is allowed takes it without sampling.
/// </summary>
public sealed class TokenOutput
{
    private readonly Tokenizer _tokenizer;
    private readonly StreamingDetokenizer _detokenizer;
    private readonly StopStringFilter _stops;
    private readonly GrammarMatcher? _grammar;
    private readonly float[]? _masked; // [vocab] the logits row with refused tokens at -infinity
    private readonly float[] _p;       // [vocab] the target distribution of a drafted position

    public TokenOutput(Tokenizer tokenizer, SamplingOptions sampling, int vocab, int context, IReadOnlyList<int> prompt, IReadOnlyList<string> stopStrings,
        bool ignoreEos = false, GbnfGrammar? grammar = null)
    {
        if (grammar is not null)
        {
            _grammar = new GrammarMatcher(grammar, tokenizer);
            _masked = new float[vocab];
        }
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Sampler = new Sampler(sampling, vocab, context);
        _p = new float[vocab];
        if (ignoreEos) Sampler.Ban(tokenizer.EndOfGeneration);
        foreach (int t in prompt) Sampler.Accept(t);
        _detokenizer = new StreamingDetokenizer(tokenizer);
        _stops = new StopStringFilter(stopStrings);
    }

    public Sampler Sampler { get; }

    /// <summary>Tokens generated so far (end-of-generation not counted).</summary>
    public int Generated { get; private set; }

    /// <summary>Samples the next token from <paramref name="logits"/> and says what it releases.</summary>
    public TokenStep Next(ReadOnlySpan<float> logits)
    {
        int token = _grammar is null ? Sampler.Sample(logits) : SampleAllowed(logits);
        return Emit(token);
    }

    private TokenStep Emit(int token)
    {
        if (_tokenizer.IsEndOfGeneration(token))
            return new TokenStep(token, "", EndOfGeneration: true, StopString: false);
        _grammar?.Accept(token);
        Sampler.Accept(token);
        Generated++;
        string text = _stops.Push(_detokenizer.Push(token));
        return new TokenStep(token, text, EndOfGeneration: false, _stops.Stopped);
    }

    /// <summary>
    /// Verifies a draft against the main model's logits at the draft's positions and emits the tokens that follow:
    /// row i of <paramref name="rows"/> ([draft + 1, vocab]) holds the logits after the pending token and the first i
    /// drafted ones. Greedy: a drafted token is accepted while it is the greedy pick, and the first pick that differs
    /// (or the pick after the whole draft) follows. Sampling: the rule of Leviathan et al. 2023 / Chen et al. 2023 —
    /// accept drafted token x with probability min(1, p(x)/q(x)); on rejection draw from norm(max(0, p − q)) — with p
    /// the sampler's distribution (every transform, penalties on the tokens accepted so far) and q the draft's
    /// (one-hot when <paramref name="draftProbabilities"/> is empty), so the output follows p exactly. Stops early at
    /// end of generation, a stop string or <paramref name="limit"/> tokens; returns the accepted draft count.
    /// </summary>
    public int NextDrafted(ReadOnlySpan<float> rows, ReadOnlySpan<int> draft, ReadOnlySpan<float> draftProbabilities, int limit, List<TokenStep> steps)
    {
        if (_grammar is not null) throw new InvalidOperationException("a grammar-constrained output does not speculate");
        int vocab = _p.Length;
        if (rows.Length < (draft.Length + 1) * vocab)
            throw new ArgumentException($"expected {draft.Length + 1} logit rows of {vocab}, got {rows.Length / vocab}", nameof(rows));
        steps.Clear();
        bool greedy = Sampler.Options.Temperature <= 0;
        for (int i = 0; i <= draft.Length && steps.Count < limit; i++)
        {
            var row = rows.Slice(i * vocab, vocab);
            int token;
            bool accepted = false;
            if (i == draft.Length)
                token = Sampler.Sample(row);
            else if (greedy)
            {
                token = Sampler.Sample(row);
                accepted = token == draft[i];
            }
            else
            {
                int x = draft[i];
                Sampler.Distribution(row, _p);
                float qx = draftProbabilities.IsEmpty ? 1f : draftProbabilities[i * vocab + x];
                if (Sampler.NextUniform() * qx < _p[x])
                {
                    token = x;
                    accepted = true;
                }
                else
                {
                    // norm(max(0, p − q)): with a one-hot q, p without x.
                    if (draftProbabilities.IsEmpty) _p[x] = 0;
                    else
                    {
                        var q = draftProbabilities.Slice(i * vocab, vocab);
                        for (int t = 0; t < vocab; t++) _p[t] = MathF.Max(0, _p[t] - q[t]);
                    }
                    token = Sampler.SampleFrom(_p);
                }
            }
            var step = Emit(token);
            steps.Add(step);
            if (!accepted || step.EndOfGeneration || step.StopString) return steps.Count - (accepted ? 0 : 1);
        }
        return Math.Min(steps.Count, draft.Length);
    }

    /// <summary>The grammar's progress, when the output is constrained by one.</summary>
    public GrammarMatcher? Grammar => _grammar;

    private int SampleAllowed(ReadOnlySpan<float> logits)
    {
        logits.CopyTo(_masked!);
        var (count, any, onlyEnd) = _grammar!.Apply(_masked);
        if (count == 1 || onlyEnd) return any;
        if (count == 0)
        {
            // The grammar needs text no token spells (a vocabulary without byte fallback): end rather than break it.
            foreach (int id in _tokenizer.EndOfGeneration) return id;
            throw new InvalidOperationException("the grammar allows no token here and the vocabulary has no end-of-generation token");
        }
        int token = Sampler.Sample(_masked!);
        // Banned ids (ignore-eos) may leave only refused tokens at the top; the grammar decides then.
        return float.IsNegativeInfinity(_masked![token]) ? any : token;
    }

    /// <summary>
    /// Ends the output: the text still held back (an unfinished character, a possible stop string's prefix), and whether
    /// it turned out to complete a stop string. Nothing more once a stop string ended the output.
    /// </summary>
    public (string Tail, bool StopString) Finish()
    {
        if (_stops.Stopped) return ("", true);
        string tail = _stops.Push(_detokenizer.Flush());
        if (_stops.Stopped) return (tail, true);
        return (tail + _stops.Flush(), false);
    }
}
