using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;

namespace Frugal.Tests.Models;

/// <summary>Malformed phi3 / YaRN / LongRoPE files are refused with an error that names the tensor or key.</summary>
public class FamilyLoadErrorTests
{
    private static string Phi3 => SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(SyntheticFamily.Phi3, GgmlType.F32));

    private static Exception LoadError(byte[] image)
    {
        string path = SyntheticFixtures.NewPath("bad-family");
        File.WriteAllBytes(path, image);
        using var file = GgufFile.Open(path);
        return Record.Exception(() => ModelLoader.Load(file).Dispose())!;
    }

    [Fact]
    public void A_fused_qkv_of_the_wrong_height_is_named()
    {
        // Rows for q + k only: a file whose V was left out of the fused tensor.
        var e = LoadError(Rewrite(Phi3, t => t.Name == "blk.1.attn_qkv.weight" ? (t.Type, [128, 128 + 64], new byte[128 * (128 + 64) * 4]) : Keep(t)));
        var m = Assert.IsType<ModelFormatException>(e);
        Assert.Contains("blk.1.attn_qkv.weight", m.Message);
        Assert.Contains("128 + 64 + 64", m.Message);
    }

    [Fact]
    public void One_longrope_factor_set_without_the_other_is_named()
    {
        var e = LoadError(Rewrite(Phi3, t => t.Name == "rope_factors_short.weight" ? null : Keep(t)));
        var m = Assert.IsType<ModelFormatException>(e);
        Assert.Contains("rope_factors_short.weight", m.Message);
    }

    [Fact]
    public void Yarn_with_a_log_multiplier_is_refused_by_name()
    {
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Qwen2, GgmlType.F32) with { Yarn = new YarnRopeScaling(4f, 256) };
        var e = LoadError(SyntheticFixtures.Rewrite(SyntheticFixtures.PathOf(spec),
            metadata: new Dictionary<string, GgufValue?> { ["qwen2.rope.scaling.yarn_log_multiplier"] = new(GgufValueType.Float32, 0.1f) }));
        var ns = Assert.IsType<NotSupportedException>(e);
        Assert.Contains("qwen2.rope.scaling.yarn_log_multiplier", ns.Message);
    }

    [Fact]
    public void The_phi3_sliding_window_is_not_applied()
    {
        // The file says 2047, and llama.cpp disables Phi's sliding window ("Phi SWA is currently disabled"): so does this.
        using var file = GgufFile.Open(Phi3);
        Assert.Equal(2047L, file.Find("phi3.attention.sliding_window")!.AsInt64());
        using var model = ModelLoader.Load(file);
        Assert.Empty(model.Config.SlidingWindows);
        Assert.Equal(24, model.Config.RopeDims);
        Assert.Equal(128, model.Config.RopeOriginalContextLength);
        Assert.True(model.Config.RopeMagnitude > 1f);   // LongRoPE's attention factor
    }

    private static GgufFile? _source;

    /// <summary>A copy of <paramref name="path"/> with its tensors passed through <paramref name="change"/> (null drops one).</summary>
    private static byte[] Rewrite(string path, Func<GgufTensorInfo, (GgmlType, long[], byte[])?> change)
    {
        using var source = GgufFile.Open(path);
        _source = source;
        try
        {
            return SyntheticFixtures.Rewrite(path, tensor: change);
        }
        finally
        {
            _source = null;
        }
    }

    private static (GgmlType, long[], byte[])? Keep(GgufTensorInfo t) => (t.Type, t.Dimensions, _source!.GetTensorBytes(t).ToArray());
}
