using System.Numerics;
using System.Numerics.Tensors;

namespace Frugal.Train.Model;

/// <summary>Row-wise operations of the Llama block with their backward passes.</summary>
internal static class Ops
{
    /// <summary>y[t] = x[t] / rms(x[t]) * w; keeps 1/rms per row for the backward pass.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, Span<float> invRms, int rows, int dim, float eps)
    {
        for (int t = 0; t < rows; t++)
        {
            var xr = x.Slice(t * dim, dim);
            float r = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / dim + eps);
            invRms[t] = r;
            var yr = y.Slice(t * dim, dim);
            TensorPrimitives.Multiply(xr, r, yr);
            TensorPrimitives.Multiply(yr, w, yr);
        }
    }

    /// <summary>dx += d(RmsNorm)/dx · dy; dw += Σ dy·x̂. <paramref name="scratch"/> is [dim].</summary>
    public static void RmsNormBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> invRms, ReadOnlySpan<float> dy,
        Span<float> dx, Span<float> dw, Span<float> scratch, int rows, int dim)
    {
        var xhat = scratch[..dim];
        Span<float> dxhat = stackalloc float[dim];
        for (int t = 0; t < rows; t++)
        {
            float r = invRms[t];
            var xr = x.Slice(t * dim, dim);
            var dyr = dy.Slice(t * dim, dim);
            TensorPrimitives.Multiply(xr, r, xhat);
            TensorPrimitives.MultiplyAdd(dyr, xhat, dw, dw);
            TensorPrimitives.Multiply(dyr, w, dxhat);
            float mean = TensorPrimitives.Dot(dxhat, xhat) / dim;
            var dxr = dx.Slice(t * dim, dim);
            int i = 0, width = Vector<float>.Count;
            for (; i + width <= dim; i += width)
                (new Vector<float>(dxr[i..]) + r * (new Vector<float>(dxhat[i..]) - new Vector<float>(xhat[i..]) * mean)).CopyTo(dxr[i..]);
            for (; i < dim; i++) dxr[i] += r * (dxhat[i] - xhat[i] * mean);
        }
    }

    /// <summary>
    /// RoPE as llama.cpp applies it for arch llama ("normal" mode): dimensions (2i, 2i+1) of each head rotate by
    /// pos·base^(-2i/headDim). <paramref name="sign"/> = -1 rotates back (the backward pass).
    /// </summary>
    public static void Rope(Span<float> x, int rows, int heads, int headDim, int startPos, RopeTable table, float sign = 1f)
    {
        int half = headDim / 2;
        for (int t = 0; t < rows; t++)
        {
            var cos = table.Cos.AsSpan((startPos + t) * half, half);
            var sin = table.Sin.AsSpan((startPos + t) * half, half);
            for (int h = 0; h < heads; h++)
            {
                var v = x.Slice((t * heads + h) * headDim, headDim);
                for (int i = 0; i < half; i++)
                {
                    float c = cos[i], s = sign * sin[i];
                    float x0 = v[2 * i], x1 = v[2 * i + 1];
                    v[2 * i] = x0 * c - x1 * s;
                    v[2 * i + 1] = x0 * s + x1 * c;
                }
            }
        }
    }

    /// <summary>
    /// For act = silu(g)·u: dG = dAct·u·σ(g)·(1 + g·(1 − σ(g))) and dAct becomes d(up) = dAct·silu(g). σ is
    /// TensorPrimitives.Sigmoid, the one the forward pass uses; the vector body rounds exactly like the scalar tail.
    /// </summary>
    public static void SwiGluBackward(ReadOnlySpan<float> g, ReadOnlySpan<float> u, Span<float> dAct, Span<float> dG)
    {
        int n = g.Length;
        if (u.Length != n || dAct.Length != n || dG.Length != n) throw new ArgumentException("SwiGluBackward: spans differ in length");
        TensorPrimitives.Sigmoid(g, dG);
        int i = 0, w = Vector<float>.Count;
        var one = Vector<float>.One;
        for (; i + w <= n; i += w)
        {
            var sg = new Vector<float>(dG[i..]);
            var gv = new Vector<float>(g[i..]);
            var da = new Vector<float>(dAct[i..]);
            (da * new Vector<float>(u[i..]) * sg * (one + gv * (one - sg))).CopyTo(dG[i..]);
            (da * (gv * sg)).CopyTo(dAct[i..]);
        }
        for (; i < n; i++)
        {
            float sg = dG[i];
            dG[i] = dAct[i] * u[i] * sg * (1f + g[i] * (1f - sg));
            dAct[i] *= g[i] * sg;
        }
    }

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>
    /// Softmax that subtracts the row maximum first. TensorPrimitives.SoftMax exponentiates the raw values, so
    /// once trained attention scores or logits pass ~88 it overflows to inf/inf = NaN (that killed a run at step
    /// ~2080 on 2026-11-26).
    /// </summary>
    public static void StableSoftMax(ReadOnlySpan<float> x, Span<float> destination)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, destination);
        TensorPrimitives.SoftMax(destination, destination);
    }
}

/// <summary>cos/sin of every (position, pair) angle: [context, headDim/2] each.</summary>
internal sealed class RopeTable
{
    public RopeTable(int context, int headDim, float theBase)
    {
        int half = headDim / 2;
        Cos = new float[context * half];
        Sin = new float[context * half];
        for (int p = 0; p < context; p++)
            for (int i = 0; i < half; i++)
            {
                double angle = p * Math.Pow(theBase, -2.0 * i / headDim);
                Cos[p * half + i] = (float)Math.Cos(angle);
                Sin[p * half + i] = (float)Math.Sin(angle);
            }
    }

    public float[] Cos { get; }
    public float[] Sin { get; }
}
