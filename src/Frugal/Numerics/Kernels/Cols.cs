namespace Frugal.Numerics.Kernels;

/// <summary>
/// How many activation rows one kernel call serves. A type parameter rather than an argument so the JIT compiles a
/// separate body per count, with the unused accumulators gone: <see cref="One"/> for decode, <see cref="Four"/>
/// for the prefill micro-tile that reuses each unpacked weight block across four tokens.
/// </summary>
internal interface ICols
{
    static abstract int Count { get; }
}

internal readonly struct One : ICols
{
    public static int Count => 1;
}

internal readonly struct Four : ICols
{
    public static int Count => 4;
}
