namespace Frugal.Numerics.Kernels;

/// <summary>
/// How many activation rows one kernel call serves. A type parameter rather than an argument so the JIT compiles a
/// separate body per count, with the unused accumulators gone: <see cref="One"/> for decode, up to
/// <see cref="Eight"/> for batched decode (eight sequences, one token each: every weight block is unpacked once and
/// dotted with all eight) and for the prefill micro-tile. The 128-bit paths serve at most four
/// (<see cref="MaxVector128"/>); the AVX2 and AVX-512 paths up to eight.
/// </summary>
internal interface ICols
{
    static abstract int Count { get; }
}

internal static class ColTile
{
    /// <summary>Widest tile of the 256- and 512-bit paths (and the scalar twin).</summary>
    public const int MaxWide = 8;

    /// <summary>Widest tile of the portable 128-bit paths.</summary>
    public const int MaxVector128 = 4;
}

internal readonly struct One : ICols
{
    public static int Count => 1;
}

internal readonly struct Two : ICols
{
    public static int Count => 2;
}

internal readonly struct Three : ICols
{
    public static int Count => 3;
}

internal readonly struct Four : ICols
{
    public static int Count => 4;
}

internal readonly struct Five : ICols
{
    public static int Count => 5;
}

internal readonly struct Six : ICols
{
    public static int Count => 6;
}

internal readonly struct Seven : ICols
{
    public static int Count => 7;
}

internal readonly struct Eight : ICols
{
    public static int Count => 8;
}
