using Frugal.Gguf;
using Frugal.Numerics;
using Frugal.Planning;

namespace Frugal.Tests.Planning;

/// <summary>
/// GGUF files for the planner written as headers with sparse data sections: the tensor directory declares every byte,
/// the file has that length, but no data block is written (the file system keeps holes), so a fixture may declare far
/// more weights than the machine has RAM and still costs nothing to make.
/// </summary>
internal static class PlanFixtures
{
    /// <summary>A llama-shaped model: <paramref name="layers"/> layers of q/k/v/o and gate/up/down in <paramref name="type"/>, F32 norms, an untied output.</summary>
    public static void WriteLlama(string path, int layers, int dim, int ff, int heads, int kvHeads, int vocab, GgmlType type, int context = 2048)
    {
        int headDim = dim / heads, kvDim = kvHeads * headDim;
        var w = new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("llama.context_length", (uint)context)
            .Add("llama.embedding_length", (uint)dim)
            .Add("llama.block_count", (uint)layers)
            .Add("llama.feed_forward_length", (uint)ff)
            .Add("llama.attention.head_count", (uint)heads)
            .Add("llama.attention.head_count_kv", (uint)kvHeads)
            .Add("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        var sparse = new SparseStream(file);
        void Tensor(string name, GgmlType t, params long[] dims)
        {
            long bytes = GgmlTypeInfo.RowBytes(t, dims.Aggregate(1L, (a, d) => a * d));
            w.AddTensor(name, t, dims, s =>
            {
                sparse.Skipping = true; // the header is written: from here on, writes become holes
                for (long left = bytes; left > 0; left -= Zeros.Length) s.Write(Zeros, 0, (int)Math.Min(Zeros.Length, left));
            });
        }
        Tensor("token_embd.weight", type, dim, vocab);
        Tensor("output_norm.weight", GgmlType.F32, dim);
        Tensor("output.weight", type, dim, vocab);
        for (int l = 0; l < layers; l++)
        {
            string p = $"blk.{l}.";
            Tensor(p + "attn_norm.weight", GgmlType.F32, dim);
            Tensor(p + "attn_q.weight", type, dim, dim);
            Tensor(p + "attn_k.weight", type, dim, kvDim);
            Tensor(p + "attn_v.weight", type, dim, kvDim);
            Tensor(p + "attn_output.weight", type, dim, dim);
            Tensor(p + "ffn_norm.weight", GgmlType.F32, dim);
            Tensor(p + "ffn_gate.weight", type, dim, ff);
            Tensor(p + "ffn_up.weight", type, dim, ff);
            Tensor(p + "ffn_down.weight", type, ff, dim);
        }
        w.WriteTo(sparse);
        file.SetLength(file.Position);
    }

    private static readonly byte[] Zeros = new byte[1 << 24];

    /// <summary>Writes through until the first tensor's data, then turns every write into a seek.</summary>
    internal sealed class SparseStream(FileStream inner) : Stream
    {
        public bool Skipping { get; set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Skipping) inner.Seek(count, SeekOrigin.Current);
            else inner.Write(buffer, offset, count);
        }
    }

    /// <summary>Fixed machine figures: 10 GB/s memory, 1 GB/s disk, 5 GB/s page cache, 100 GFLOP/s for every type, 8 GiB free.</summary>
    public static MachineProfile Machine(long available = 8L << 30) => new()
    {
        Threads = 2,
        MemoryReadBytesPerSecond = 10e9,
        MatMulFlopsPerSecond = new Dictionary<GgmlType, double>(),
        DiskReadBytesPerSecond = 1e9,
        PageCacheReadBytesPerSecond = 5e9,
        AvailableMemoryBytes = available,
        RuntimeBytes = 50L << 20,
    };
}
