using System.Runtime.InteropServices;
using LLama;
using LLama.Common;

namespace Frugal.Tests.Oracle;

/// <summary>
/// llama.cpp's tokenizer on a GGUF file, loaded with vocab_only through LLamaSharp. The vocabulary functions are
/// called through libllama's C API directly (LLamaSharp keeps its llama_tokenize/llama_detokenize bindings
/// internal), with the model pointer LLamaSharp loaded.
/// </summary>
public sealed class LlamaCppVocab : IDisposable
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate nint GetVocabFn(nint model);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int TokenizeFn(nint vocab, byte[] text, int textLen, int[] tokens, int maxTokens,
        [MarshalAs(UnmanagedType.I1)] bool addSpecial, [MarshalAs(UnmanagedType.I1)] bool parseSpecial);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int DetokenizeFn(nint vocab, int[] tokens, int count, byte[] text, int maxLen,
        [MarshalAs(UnmanagedType.I1)] bool removeSpecial, [MarshalAs(UnmanagedType.I1)] bool unparseSpecial);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int TokenToPieceFn(nint vocab, int token, byte[] buf, int length, int lstrip,
        [MarshalAs(UnmanagedType.I1)] bool special);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.I1)]
    private delegate bool IsEogFn(nint vocab, int token);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int VocabIntFn(nint vocab);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.I1)]
    private delegate bool VocabBoolFn(nint vocab);

    private static readonly Lazy<Api> Native = new(() => new Api());

    private readonly LLamaWeights _weights;
    private readonly nint _vocab;

    public LlamaCppVocab(string ggufPath)
    {
        LlamaCppRuntime.EnsureLoaded();
        _weights = LLamaWeights.LoadFromFile(new ModelParams(ggufPath) { VocabOnly = true });
        _vocab = Native.Value.GetVocab(_weights.NativeHandle.DangerousGetHandle());
    }

    public int Count => Native.Value.NTokens(_vocab);

    public int Bos => Native.Value.Bos(_vocab);

    public int Eos => Native.Value.Eos(_vocab);

    public bool AddBos => Native.Value.AddBos(_vocab);

    public bool IsEog(int id) => Native.Value.IsEog(_vocab, id);

    /// <summary>llama_tokenize(vocab, text, add_special, parse_special).</summary>
    public int[] Tokenize(string text, bool addSpecial, bool parseSpecial)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var tokens = new int[bytes.Length + 8];
        int n = Native.Value.Tokenize(_vocab, bytes, bytes.Length, tokens, tokens.Length, addSpecial, parseSpecial);
        if (n < 0)
        {
            tokens = new int[-n];
            n = Native.Value.Tokenize(_vocab, bytes, bytes.Length, tokens, tokens.Length, addSpecial, parseSpecial);
        }
        return tokens[..n];
    }

    /// <summary>llama_detokenize(vocab, ids, remove_special, unparse_special) as raw bytes.</summary>
    public byte[] Detokenize(int[] ids, bool removeSpecial, bool unparseSpecial)
    {
        var buf = new byte[ids.Length * 16 + 16];
        int n = Native.Value.Detokenize(_vocab, ids, ids.Length, buf, buf.Length, removeSpecial, unparseSpecial);
        if (n < 0)
        {
            buf = new byte[-n];
            n = Native.Value.Detokenize(_vocab, ids, ids.Length, buf, buf.Length, removeSpecial, unparseSpecial);
        }
        return buf[..n];
    }

    /// <summary>llama_token_to_piece(vocab, id, lstrip: 0, special).</summary>
    public byte[] TokenToPiece(int id, bool special)
    {
        var buf = new byte[64];
        int n = Native.Value.TokenToPiece(_vocab, id, buf, buf.Length, 0, special);
        if (n < 0)
        {
            buf = new byte[-n];
            n = Native.Value.TokenToPiece(_vocab, id, buf, buf.Length, 0, special);
        }
        return buf[..n];
    }

    public void Dispose() => _weights.Dispose();

    private sealed class Api
    {
        public Api()
        {
            nint lib = NativeLibrary.Load(Path.Combine(LlamaCppRuntime.NativeDirectory, "libllama.so"));
            T Get<T>(string name) where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(lib, name));
            GetVocab = Get<GetVocabFn>("llama_model_get_vocab");
            Tokenize = Get<TokenizeFn>("llama_tokenize");
            Detokenize = Get<DetokenizeFn>("llama_detokenize");
            TokenToPiece = Get<TokenToPieceFn>("llama_token_to_piece");
            IsEog = Get<IsEogFn>("llama_vocab_is_eog");
            NTokens = Get<VocabIntFn>("llama_vocab_n_tokens");
            Bos = Get<VocabIntFn>("llama_vocab_bos");
            Eos = Get<VocabIntFn>("llama_vocab_eos");
            AddBos = Get<VocabBoolFn>("llama_vocab_get_add_bos");
        }

        public GetVocabFn GetVocab { get; }
        public TokenizeFn Tokenize { get; }
        public DetokenizeFn Detokenize { get; }
        public TokenToPieceFn TokenToPiece { get; }
        public IsEogFn IsEog { get; }
        public VocabIntFn NTokens { get; }
        public VocabIntFn Bos { get; }
        public VocabIntFn Eos { get; }
        public VocabBoolFn AddBos { get; }
    }
}
