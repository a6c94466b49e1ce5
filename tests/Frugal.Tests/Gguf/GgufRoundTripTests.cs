using Frugal.Gguf;
using Frugal.Numerics;

namespace Frugal.Tests.Gguf;

public class GgufRoundTripTests
{
    [Theory]
    [InlineData(2u, 32u)]
    [InlineData(3u, 32u)]
    [InlineData(3u, 64u)]
    public void Written_file_reads_back_metadata_and_tensors(uint version, uint alignment)
    {
        var w = new GgufWriter(version, alignment)
            .Add("general.architecture", "llama")
            .Add("llama.block_count", 2u)
            .Add("f", 1.5f)
            .Add("flag", true)
            .Add("tokens", ["a", "é", "日本"])
            .Add("scores", [0.5f, -1f])
            .Add("nested", new GgufValue(GgufValueType.Array, new[]
            {
                new GgufValue(GgufValueType.Array, new[] { 1, 2 }, GgufValueType.Int32),
                new GgufValue(GgufValueType.Array, new[] { 3 }, GgufValueType.Int32),
            }, GgufValueType.Array));
        float[] a = [1, 2, 3, 4, 5, 6];
        w.AddTensor("a", [3, 2], a);
        w.AddTensor("b", [1], [7f]);
        using var f = GgufFile.FromBytes(w.ToArray());

        Assert.Equal(version, f.Version);
        Assert.Equal(alignment, f.Alignment);
        Assert.Equal("llama", f.GetString("general.architecture"));
        Assert.Equal(2, f.GetInt("llama.block_count"));
        Assert.Equal(1.5, f.GetDouble("f"));
        Assert.True(f.Find("flag")!.AsBool());
        Assert.Equal(["a", "é", "日本"], f.Find("tokens")!.AsArray<string>());
        Assert.Equal([0.5f, -1f], f.Find("scores")!.AsFloatArray());
        var nested = f.Find("nested")!.AsArray<GgufValue>();
        Assert.Equal([1, 2], nested[0].AsArray<int>());
        Assert.Equal([3], nested[1].AsArray<int>());
        Assert.Equal(["general.architecture", "llama.block_count", "f", "flag", "tokens", "scores", "nested"],
            f.MetadataKeys.Where(k => k != "general.alignment"));

        var ta = f.GetTensor("a");
        Assert.Equal([3L, 2L], ta.Dimensions);
        Assert.Equal(GgmlType.F32, ta.Type);
        Assert.Equal(0, ta.FileOffset % alignment);
        var back = new float[6];
        Dequantize.Row(ta.Type, f.GetTensorBytes(ta), back);
        Assert.Equal(a, back);
        Assert.Equal(0, f.GetTensor("b").Offset % alignment);
    }
}
