using LLama.Native;

namespace Frugal.Tests.Oracle;

/// <summary>llama.cpp's quantizer called as the <c>llama-quantize</c> tool calls it: the output tensor quantized, no imatrix.</summary>
public static class LlamaQuantize
{
    /// <summary>Quantizes <paramref name="source"/> to the file type with llama_ftype id <paramref name="ftype"/>.</summary>
    public static void Run(string source, string destination, uint ftype, bool pure = false)
    {
        LlamaCppRuntime.EnsureLoaded();
        var p = LLamaModelQuantizeParams.Default();
        p.ftype = (LLamaFtype)ftype;
        p.nthread = 2;
        p.quantize_output_tensor = true;
        p.allow_requantize = false;
        p.pure = pure;
        if (NativeApi.llama_model_quantize(source, destination, ref p) != 0)
            throw new InvalidOperationException($"llama.cpp could not quantize '{source}' to ftype {ftype}");
    }
}
