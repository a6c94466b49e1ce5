namespace Frugal.Inference.Speculation;

/// <summary>
/// The median of the last <see cref="Window"/> observations: a step time that a busy machine stretched (a preempted
/// thread, a cache flushed by a neighbour) moves it by at most one rank, where a moving average would carry a tenfold
/// outlier into many later decisions.
/// </summary>
internal struct RecentMedian
{
    public const int Window = 5;
    private double _a, _b, _c, _d, _e;   // ring of the last observations, the first _count of them filled
    private int _next, _count;

    public readonly bool IsEmpty => _count == 0;

    public void Add(double x)
    {
        switch (_next)
        {
            case 0: _a = x; break;
            case 1: _b = x; break;
            case 2: _c = x; break;
            case 3: _d = x; break;
            default: _e = x; break;
        }
        _next = (_next + 1) % Window;
        if (_count < Window) _count++;
    }

    /// <summary>The median of what was observed (the upper one of an even count); 0 when nothing was.</summary>
    public readonly double Value
    {
        get
        {
            if (_count == 0) return 0;
            Span<double> v = [_a, _b, _c, _d, _e];
            v = v[.._count];
            v.Sort();
            return v[_count / 2];
        }
    }
}
