using Frugal.Inference.Sampling;

namespace Frugal.Inference.Speculation;

/// <summary>A step's draft: its tokens and, for a sampled draft-model draft, the distributions they were drawn from.</summary>
/// <param name="Probabilities">[Tokens.Length, vocab] q rows; empty for one-hot drafts (prompt lookup, greedy drafting).</param>
public readonly record struct Draft(int[] Tokens, float[] Probabilities, bool FromModel)
{
    public static readonly Draft None = new([], [], false);

    public int Length => Tokens.Length;
}

/// <summary>
/// One sequence's speculation: which source drafts this step (prompt lookup, the draft model), how many tokens (each
/// source's own <see cref="SpeculationController"/>), and the bookkeeping of what was accepted.
/// </summary>
public sealed class SequenceSpeculator
{
    // Cost of one drafted token relative to a decode step: verifying it (a row of the batched step), plus for the
    // draft model its own forward step. Fitted to the built-in pair on the bench (bench/speculative.md).
    private const double LookupCost = 0.12;
    private const double DraftModelCost = 0.35;

    private readonly SpeculationOptions _options;
    private readonly SpeculationController? _lookup;
    private readonly SpeculationController? _draftController;
    private readonly Lazy<DraftModelDrafter>? _drafter;
    private readonly int _vocab;
    private readonly bool _greedy;

    public SequenceSpeculator(SpeculationOptions options, SamplingOptions sampling, int vocab, int context)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _vocab = vocab;
        _greedy = sampling.Temperature <= 0;
        if (options.Mode is SpeculationMode.Lookup or SpeculationMode.Auto)
            _lookup = new SpeculationController(options.DraftMax, LookupCost);
        if (options.Mode is SpeculationMode.Draft or SpeculationMode.Auto && options.DraftModel is { } model)
        {
            _draftController = new SpeculationController(options.DraftMax, DraftModelCost, backOff: true);
            // Made on first use: a sequence that never drafts (crowded steps) never pays for the draft model's cache.
            _drafter = new Lazy<DraftModelDrafter>(() => new DraftModelDrafter(model, sampling, context));
        }
    }

    public SpeculationCounters Counters { get; private set; }

    // Measured cost: seconds of recent plain steps (a median, robust to a step the machine stretched); each drafting
    // step's seconds relative to it price that draft length in the controller that drafted it, which then drafts only
    // where the acceptance rate pays for the measured cost (drafting, verifying, sampling).
    private RecentMedian _plainSeconds;
    private int _sincePlain;
    private SpeculationController? _lastSource;   // the controller whose draft the last proposed step carried
    private const int MeasurePlainEvery = 32;

    /// <summary>Records one step of this sequence: tokens drafted (0: a plain step), tokens it produced, and its time.</summary>
    public void ObserveStep(int drafted, int produced, double seconds)
    {
        if (produced <= 0 || seconds <= 0) return;
        if (drafted == 0)
        {
            _plainSeconds.Add(seconds);
            _sincePlain = 0;
        }
        else if (_options.AdaptToClock && !_plainSeconds.IsEmpty)
            _lastSource?.ObserveCost(drafted, seconds / _plainSeconds.Value);
    }

    /// <summary>
    /// Whether this step should be plain so that the plain step time the drafting costs are priced against stays current:
    /// after 32 steps without one. A new sequence drafts from its first step on the controllers' prior costs (a short
    /// answer copied from the prompt is over in a few steps; a plain first step to time the clock cost it 0.2x), and its
    /// drafting steps are priced from the first plain step on.
    /// </summary>
    private bool ClockSaysPlain()
    {
        if (!_options.AdaptToClock) return false;
        _sincePlain++;
        return _sincePlain > MeasurePlainEvery;
    }

    /// <summary>
    /// This step's draft for a sequence whose tokens (prompt and output, the last one not yet evaluated) are
    /// <paramref name="history"/>: none when <paramref name="others"/> sequences already share the step
    /// (<see cref="SpeculationOptions.CrowdedStep"/>) or when the controllers say drafting does not pay.
    /// </summary>
    /// <param name="room">most tokens the draft may hold (the token limit and the context left).</param>
    public Draft Propose(ReadOnlySpan<int> history, int others, int room)
    {
        _lastSource = null;
        if (others >= _options.CrowdedStep || room <= 0 || ClockSaysPlain()) return Draft.None;
        if (_lookup is not null)
        {
            int k = Math.Min(room, _lookup.NextLength());
            if (k > 0)
            {
                var tokens = new int[k];
                int n = PromptLookupDrafter.Draft(history, tokens);
                if (n > 0)
                {
                    _lastSource = _lookup;
                    return new Draft(tokens[..n], [], false);
                }
            }
        }
        if (_drafter is not null)
        {
            int k = Math.Min(room, _draftController!.NextLength());
            if (k > 0)
            {
                var tokens = new int[k];
                var q = _greedy ? [] : new float[k * _vocab];
                int n = _drafter.Value.Draft(history, tokens, q);
                if (n > 0)
                {
                    _lastSource = _draftController;
                    return new Draft(tokens[..n], _greedy ? [] : q[..(n * _vocab)], true);
                }
            }
        }
        return Draft.None;
    }

    /// <summary>Records how many tokens of <paramref name="draft"/> the main model accepted.</summary>
    public void Record(Draft draft, int accepted)
    {
        if (draft.Length == 0) return;
        (draft.FromModel ? _draftController : _lookup)!.Record(draft.Length, accepted);
        Counters += new SpeculationCounters(draft.Length, accepted);
    }
}
