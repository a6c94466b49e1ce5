using Frugal.Gguf;
using Frugal.Numerics;

namespace Frugal.Tests.Gguf;

/// <summary>Tensors whose bytes the writer asks for when it reaches them (how quantize streams a model).</summary>
public class GgufStreamedTensorTests
{
    private static readonly byte[] Q8 = Enumerable.Range(0, 34 * 3).Select(i => (byte)(i * 7)).ToArray();

    [Fact]
    public void A_streamed_tensor_is_written_as_the_same_tensor_held_in_memory()
    {
        var held = new GgufWriter().Add("general.architecture", "llama")
            .AddTensor("a", [5], new float[] { 1, 2, 3, 4, 5 })
            .AddTensor("b", GgmlType.Q8_0, [32, 3], Q8)
            .ToArray();
        var order = new List<string>();
        var streamed = new GgufWriter().Add("general.architecture", "llama")
            .AddTensor("a", [5], new float[] { 1, 2, 3, 4, 5 })
            .AddTensor("b", GgmlType.Q8_0, [32, 3], s => { order.Add("b"); s.Write(Q8, 0, 50); s.Write(Q8.AsSpan(50)); })
            .ToArray();

        Assert.Equal(held, streamed);
        Assert.Equal(["b"], order);
        using var file = GgufFile.FromBytes(streamed);
        Assert.Equal(Q8, file.GetTensorBytes(file.GetTensor("b")).ToArray());
    }

    [Fact]
    public void A_streamed_tensor_that_writes_the_wrong_size_is_an_error_naming_it()
    {
        var w = new GgufWriter().AddTensor("short", GgmlType.Q8_0, [32, 3], s => s.Write(Q8, 0, 34));
        var e = Assert.Throws<InvalidOperationException>(() => w.ToArray());
        Assert.Equal("tensor 'short' wrote 34 bytes, its directory entry says 102", e.Message);
    }
}
