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
        if (_tokenizer.IsEndOfGeneration(token))
            return new TokenStep(token, "", EndOfGeneration: true, StopString: false);
        _grammar?.Accept(token);
        Sampler.Accept(token);
        Generated++;
        string text = _stops.Push(_detokenizer.Push(token));
        return new TokenStep(token, text, EndOfGeneration: false, _stops.Stopped);
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
