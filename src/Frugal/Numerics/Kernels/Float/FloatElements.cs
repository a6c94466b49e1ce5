using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// How one float weight type stores an element: read one (the scalar twin) or widen a row to f32 (the vector path).
/// A type parameter of <see cref="FloatRowKernels"/>, so each type's loop is compiled on its own with no type test inside.
/// </summary>
internal unsafe interface IFloatElements
{
    /// <summary>False for F32, whose rows the vector path reads where they lie.</summary>
    static abstract bool NeedsConversion { get; }

    static abstract float Element(byte* w, int i);

    /// <summary><paramref name="len"/> elements of row <paramref name="w"/> as f32 into <paramref name="dst"/>.</summary>
    static abstract void ToSingle(byte* w, float* dst, int len);
}

internal readonly unsafe struct F32Elements : IFloatElements
{
    public static bool NeedsConversion => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(byte* w, int i) => ((float*)w)[i];

    public static void ToSingle(byte* w, float* dst, int len) => Buffer.MemoryCopy(w, dst, len * 4L, len * 4L);
}

internal readonly unsafe struct F16Elements : IFloatElements
{
    public static bool NeedsConversion => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(byte* w, int i) => (float)((Half*)w)[i];

    public static void ToSingle(byte* w, float* dst, int len) => HalfConversion.ToSingle((Half*)w, dst, len);
}

internal readonly unsafe struct Bf16Elements : IFloatElements
{
    public static bool NeedsConversion => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(byte* w, int i) => BitConverter.Int32BitsToSingle(((ushort*)w)[i] << 16);

    /// <summary>bfloat16 is the top half of an f32: widen each to 32 bits and shift it up.</summary>
    public static void ToSingle(byte* w, float* dst, int len)
    {
        var src = (ushort*)w;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= len; i += 16)
            {
                var v = Vector256.Load(src + i);
                Vector256.ShiftLeft(Vector256.WidenLower(v), 16).AsSingle().Store(dst + i);
                Vector256.ShiftLeft(Vector256.WidenUpper(v), 16).AsSingle().Store(dst + i + 8);
            }
        }
        for (; i < len; i++)
            dst[i] = BitConverter.Int32BitsToSingle(src[i] << 16);
    }
}
