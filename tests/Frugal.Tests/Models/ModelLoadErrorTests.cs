using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;

namespace Frugal.Tests.Models;

/// <summary>Files and calls a user can get wrong fail with an exception that names what is wrong.</summary>
public class ModelLoadErrorTests
{
    private static string Source => SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(SyntheticFamily.Qwen2, GgmlType.F32));

    private static Exception LoadError(byte[] image)
    {
        using var file = GgufFile.FromBytes(image, "broken.gguf");
        return Record.Exception(() => ModelLoader.Load(file).Dispose())!;
    }

    [Fact]
    public void Unknown_architecture_is_named()
    {
        var e = LoadError(SyntheticFixtures.Rewrite(Source,
            metadata: new Dictionary<string, GgufValue?> { ["general.architecture"] = new(GgufValueType.String, "gpt-j-9000") }));
        var ns = Assert.IsType<NotSupportedException>(e);
        Assert.Contains("'gpt-j-9000'", ns.Message);
        Assert.Contains("qwen2", ns.Message);
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        var e = LoadError(SyntheticFixtures.Rewrite(Source,
            tensor: t => t.Name == "blk.1.attn_k.bias" ? null : (t.Type, t.Dimensions, ReadBytes(t))));
        var mf = Assert.IsType<ModelFormatException>(e);
        Assert.Equal("blk.1.attn_k.bias", mf.Item);
        Assert.Contains("missing", mf.Message);
    }

    [Fact]
    public void Unsupported_tensor_type_names_the_tensor_and_the_type()
    {
        var e = LoadError(SyntheticFixtures.Rewrite(Source,
            tensor: t => t.Name == "blk.0.ffn_up.weight" ? (GgmlType.I32, t.Dimensions, ReadBytes(t)) : (t.Type, t.Dimensions, ReadBytes(t))));
        var ns = Assert.IsType<NotSupportedException>(e);
        Assert.Contains("blk.0.ffn_up.weight", ns.Message);
        Assert.Contains("I32", ns.Message);
    }

    [Fact]
    public void Wrong_shape_is_named_with_the_expected_shape()
    {
        var e = LoadError(SyntheticFixtures.Rewrite(Source,
            tensor: t => t.Name == "blk.0.ffn_gate.weight" ? (t.Type, [t.Dimensions[1], t.Dimensions[0]], ReadBytes(t)) : (t.Type, t.Dimensions, ReadBytes(t))));
        var mf = Assert.IsType<ModelFormatException>(e);
        Assert.Equal("blk.0.ffn_gate.weight", mf.Item);
        Assert.Contains("expected [128, 256]", mf.Message);
    }

    [Fact]
    public void Missing_hyper_parameter_is_named()
    {
        var e = LoadError(SyntheticFixtures.Rewrite(Source,
            metadata: new Dictionary<string, GgufValue?> { ["qwen2.attention.head_count"] = null }));
        Assert.Equal("qwen2.attention.head_count", Assert.IsType<ModelFormatException>(e).Item);
    }

    [Fact]
    public void Unsupported_rope_scaling_is_named()
    {
        var e = LoadError(SyntheticFixtures.Rewrite(Source,
            metadata: new Dictionary<string, GgufValue?> { ["qwen2.rope.scaling.type"] = new(GgufValueType.String, "dynamic") }));
        var ns = Assert.IsType<NotSupportedException>(e);
        Assert.Contains("qwen2.rope.scaling.type 'dynamic'", ns.Message);
    }

    [Fact]
    public void Forward_rejects_bad_tokens_small_buffers_and_a_full_cache()
    {
        using var file = GgufFile.Open(Source);
        using var model = ModelLoader.Load(file);
        var cache = model.CreateCache(4);
        var logits = new float[model.Config.VocabSize];

        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([1, 512], cache, logits));
        Assert.Contains("512", bad.Message);
        Assert.Throws<ArgumentException>(() => model.Forward([1, 2], cache, logits, allLogits: true));
        model.Forward([1, 2, 3, 4], cache, logits);
        var full = Assert.Throws<ArgumentException>(() => model.Forward([5], cache, logits));
        Assert.Contains("4 positions", full.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(5));
    }

    private static byte[] ReadBytes(GgufTensorInfo t)
    {
        using var file = GgufFile.Open(Source);
        return file.GetTensorBytes(file.GetTensor(t.Name)).ToArray();
    }
}
