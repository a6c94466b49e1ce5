using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Frugal.Numerics.Attention;

/// <summary>
/// The few vector operations the attention tile needs, as static abstract members so one generic kernel
/// (<see cref="AttentionTile"/>) specializes per width without virtual calls (the operator-struct habit of
/// System.Numerics.Tensors).
/// </summary>
internal unsafe interface IFloatLanes<TVec> where TVec : struct
{
    static abstract int Count { get; }
    static abstract TVec Zero { get; }
    static abstract TVec Load(float* p);
    static abstract void Store(float* p, TVec v);
    static abstract TVec Broadcast(float x);
    /// <summary>a·b + c.</summary>
    static abstract TVec Fma(TVec a, TVec b, TVec c);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Multiply(TVec a, TVec b);
    static abstract TVec Max(TVec a, TVec b);
    static abstract TVec ExpOfDifference(TVec a, TVec b);
    static abstract float HorizontalMax(TVec v);
    static abstract float HorizontalSum(TVec v);
}

internal readonly unsafe struct Lanes512 : IFloatLanes<Vector512<float>>
{
    public static int Count => 16;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ExpOfDifference(Vector512<float> a, Vector512<float> b)
    {
        // Cephes expf: 2^n · p(r), x = n·ln2 + r, |r| ≤ ln2/2; x is clamped to -87.3 (a score that far below the
        // row's max weighs < 1e-37). Softmax only ever passes x ≤ 0. .NET's Vector512.Exp computes in double: 4x slower.
        var x = Vector512.Max(a - b, Vector512.Create(-87.3f));
        var n = Vector512.Round(x * Vector512.Create(1.44269504088896341f));
        var r = x - n * Vector512.Create(0.693359375f) - n * Vector512.Create(-2.12194440e-4f);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1.9875691500E-4f), r, Vector512.Create(1.3981999507E-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073E-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894E-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459E-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201E-1f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512.Create(1f);
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return p * scale;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float HorizontalMax(Vector512<float> v) =>
        Lanes256.HorizontalMax(Vector256.Max(v.GetLower(), v.GetUpper()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float HorizontalSum(Vector512<float> v) => Vector512.Sum(v);
}

internal readonly unsafe struct Lanes256 : IFloatLanes<Vector256<float>>
{
    public static int Count => 8;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector256<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ExpOfDifference(Vector256<float> a, Vector256<float> b)
    {
        // Cephes expf: 2^n · p(r), x = n·ln2 + r, |r| ≤ ln2/2; x is clamped to -87.3 (a score that far below the
        // row's max weighs < 1e-37). Softmax only ever passes x ≤ 0. .NET's Vector256.Exp computes in double: 4x slower.
        var x = Vector256.Max(a - b, Vector256.Create(-87.3f));
        var n = Vector256.Round(x * Vector256.Create(1.44269504088896341f));
        var r = x - n * Vector256.Create(0.693359375f) - n * Vector256.Create(-2.12194440e-4f);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(1.9875691500E-4f), r, Vector256.Create(1.3981999507E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894E-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459E-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201E-1f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256.Create(1f);
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        return p * scale;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float HorizontalMax(Vector256<float> v) =>
        Lanes128.HorizontalMax(Vector128.Max(v.GetLower(), v.GetUpper()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float HorizontalSum(Vector256<float> v) => Vector256.Sum(v);
}

internal readonly unsafe struct Lanes128 : IFloatLanes<Vector128<float>>
{
    public static int Count => 4;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector128<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float x) => Vector128.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ExpOfDifference(Vector128<float> a, Vector128<float> b)
    {
        // Cephes expf: 2^n · p(r), x = n·ln2 + r, |r| ≤ ln2/2; x is clamped to -87.3 (a score that far below the
        // row's max weighs < 1e-37). Softmax only ever passes x ≤ 0. .NET's Vector128.Exp computes in double: 4x slower.
        var x = Vector128.Max(a - b, Vector128.Create(-87.3f));
        var n = Vector128.Round(x * Vector128.Create(1.44269504088896341f));
        var r = x - n * Vector128.Create(0.693359375f) - n * Vector128.Create(-2.12194440e-4f);
        var p = Vector128.FusedMultiplyAdd(Vector128.Create(1.9875691500E-4f), r, Vector128.Create(1.3981999507E-3f));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(8.3334519073E-3f));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(4.1665795894E-2f));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(1.6666665459E-1f));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(5.0000001201E-1f));
        p = Vector128.FusedMultiplyAdd(p, r * r, r) + Vector128.Create(1f);
        var scale = Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
        return p * scale;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float HorizontalMax(Vector128<float> v) =>
        MathF.Max(MathF.Max(v.GetElement(0), v.GetElement(1)), MathF.Max(v.GetElement(2), v.GetElement(3)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float HorizontalSum(Vector128<float> v) => Vector128.Sum(v);
}

/// <summary>One lane: head sizes that no vector width divides (tiny test models) still run the same kernel.</summary>
internal readonly unsafe struct Lanes1 : IFloatLanes<float>
{
    public static int Count => 1;
    public static float Zero => 0f;
    public static float Load(float* p) => *p;
    public static void Store(float* p, float v) => *p = v;
    public static float Broadcast(float x) => x;
    public static float Fma(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
    public static float Add(float a, float b) => a + b;
    public static float Multiply(float a, float b) => a * b;
    public static float Max(float a, float b) => MathF.Max(a, b);
    public static float ExpOfDifference(float a, float b) => MathF.Exp(a - b);
    public static float HorizontalMax(float v) => v;
    public static float HorizontalSum(float v) => v;
}
