using System.Runtime.InteropServices;
using LLama;
using LLama.Common;
using LLama.Extensions;
using LLama.Native;

namespace Frugal.Tests.Oracle;

/// <summary>
/// Runs a prompt through llama.cpp with a graph-evaluation callback and keeps, for every MUL_MAT whose weight is
/// quantized (not F32/F16) and whose activations are F32, those activations [tokens, cols] in graph order: the
/// inputs llama.cpp rounds to 8 bits. Settings as <see cref="LlamaCppModel"/> (2 threads, F32 KV, no flash attention).
/// </summary>
public static unsafe class LlamaCppMatMulCapture
{
    // struct ggml_tensor (ggml.h): type at 0, ne[4] at 16, src[10] at 152. ggml keeps this layout stable; the shape
    // check in the callback turns a layout change into a test failure rather than garbage.
    private const int NeOffset = 16, SrcOffset = 152;
    private const int GgmlF32 = 0, GgmlF16 = 1;

    private static delegate* unmanaged<nint, byte*> _opDesc;
    private static delegate* unmanaged<nint, void*> _getData;
    private static delegate* unmanaged<nint, long> _nElements;

    [ThreadStatic]
    private static List<float[]>? _captured;

    [ThreadStatic]
    private static bool _layoutMismatch;

    /// <summary>The captured activations and the logits [tokens, vocab] of one batch evaluation of <paramref name="tokens"/>.</summary>
    public static (List<float[]> Activations, float[] Logits) Run(string path, IReadOnlyList<int> tokens)
    {
        LlamaCppRuntime.EnsureLoaded();
        var lib = NativeLibrary.Load(Path.Combine(LlamaCppRuntime.NativeDirectory, "libggml-base.so"));
        _opDesc = (delegate* unmanaged<nint, byte*>)NativeLibrary.GetExport(lib, "ggml_op_desc");
        _getData = (delegate* unmanaged<nint, void*>)NativeLibrary.GetExport(lib, "ggml_get_data");
        _nElements = (delegate* unmanaged<nint, long>)NativeLibrary.GetExport(lib, "ggml_nelements");

        var p = new ModelParams(path)
        {
            ContextSize = 256, BatchSize = 256, UBatchSize = 256, Threads = 2, BatchThreads = 2, GpuLayerCount = 0,
            TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
        };
        using var weights = LLamaWeights.LoadFromFile(p);
        p.ToLlamaContextParams(out var cp);
        cp.cb_eval = (nint)(delegate* unmanaged<nint, byte, void*, byte>)&OnTensor;
        var captured = _captured = [];
        _layoutMismatch = false;
        try
        {
            using var context = SafeLLamaContextHandle.Create(weights.NativeHandle, cp);
            var batch = new LLamaBatch();
            for (int i = 0; i < tokens.Count; i++)
                batch.Add(tokens[i], i, (LLamaSeqId)0, true);
            if (context.Decode(batch) != DecodeResult.Ok)
                throw new InvalidOperationException("llama_decode failed");
            if (_layoutMismatch)
                throw new InvalidOperationException("ggml_tensor layout differs from the one this capture was written for");
            int vocab = weights.Vocab.Count;
            var logits = new float[tokens.Count * vocab];
            for (int i = 0; i < tokens.Count; i++)
                context.GetLogitsIth(i).CopyTo(logits.AsSpan(i * vocab, vocab));
            return (captured, logits);
        }
        finally
        {
            _captured = null;
        }
    }

    // ggml_backend_sched_eval_callback: asked first whether a node is wanted (say yes to all), then called once it
    // is computed. The CPU backend runs the graph on the thread that called llama_decode, which owns _captured.
    [UnmanagedCallersOnly]
    private static byte OnTensor(nint t, byte ask, void* userData)
    {
        if (ask != 0 || _captured is null)
            return 1;
        if (Marshal.PtrToStringAnsi((nint)_opDesc(t)) != "MUL_MAT")
            return 1;
        nint weight = *(nint*)(t + SrcOffset), x = *(nint*)(t + SrcOffset + 8);
        int weightType = *(int*)weight;
        if (weightType is GgmlF32 or GgmlF16 || *(int*)x != GgmlF32)
            return 1;
        long cols = *(long*)(weight + NeOffset);
        if (*(long*)(x + NeOffset) != cols)
        {
            _layoutMismatch = true; // no exception may cross back into native code
            return 1;
        }
        _captured.Add(new Span<float>(_getData(x), (int)_nElements(x)).ToArray());
        return 1;
    }
}
