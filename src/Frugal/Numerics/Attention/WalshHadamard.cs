using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Frugal.Numerics.Attention;

/// <summary>
/// The normalized fast Walsh-Hadamard transform H/√n of a power-of-two length, in place: n·log₂n additions and one
/// scaling. R = H/√n is orthonormal and its own inverse (applying it twice gives the input), so q·k = (Rq)·(Rk): keys
/// may be stored rotated if queries are rotated the same way. Rotating spreads an outlier channel over every element
/// of the head, so a per-block scale (q4_0, q8_0) no longer stretches to fit one large value (QuaRot; llama.cpp's
/// rotated K cache).
/// </summary>
public static unsafe class WalshHadamard
{
    /// <summary>Whether <paramref name="n"/> is a length the transform takes (a positive power of two).</summary>
    public static bool Fits(int n) => n > 0 && BitOperations.IsPow2(n);

    /// <exception cref="ArgumentException">the length is not a power of two.</exception>
    public static void Transform(Span<float> x)
    {
        if (!Fits(x.Length)) throw new ArgumentException($"the Walsh-Hadamard transform needs a power-of-two length, got {x.Length}", nameof(x));
        fixed (float* p = x) Transform(p, x.Length);
    }

    /// <summary>The unchecked form: <paramref name="n"/> must be a power of two.</summary>
    internal static void Transform(float* x, int n)
    {
        int h = 1;
        // Butterflies (a, b) -> (a + b, a - b) at stride h; strides of a whole vector or more run a vector at a time.
        for (; h < n && h < Vector<float>.Count; h *= 2)
            for (int i = 0; i < n; i += 2 * h)
                for (int j = i; j < i + h; j++)
                {
                    float a = x[j], b = x[j + h];
                    x[j] = a + b;
                    x[j + h] = a - b;
                }
        for (; h < n; h *= 2)
            for (int i = 0; i < n; i += 2 * h)
                for (int j = i; j < i + h; j += Vector<float>.Count)
                {
                    var a = Unsafe.ReadUnaligned<Vector<float>>(x + j);
                    var b = Unsafe.ReadUnaligned<Vector<float>>(x + j + h);
                    Unsafe.WriteUnaligned(x + j, a + b);
                    Unsafe.WriteUnaligned(x + j + h, a - b);
                }
        TensorPrimitives.Multiply(new ReadOnlySpan<float>(x, n), 1f / MathF.Sqrt(n), new Span<float>(x, n));
    }
}
