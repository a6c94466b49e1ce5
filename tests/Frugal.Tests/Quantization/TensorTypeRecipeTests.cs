using Frugal.Gguf;
using Frugal.Gguf.Quantization;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Models;
using Frugal.Tests.Oracle;

namespace Frugal.Tests.Quantization;

/// <summary>
/// Which type each tensor gets: the Q4_K_M recipe spelled out on an 8-layer llama, and shapes the synthetic families
/// lack (a fused QKV projection, 8 experts in 3-D tensors) against llama.cpp's choice.
/// </summary>
public class TensorTypeRecipeTests
{
    [Fact]
    public void Q4_K_M_gives_Q6_K_to_the_output_and_to_attn_v_and_ffn_down_of_the_use_more_bits_layers()
    {
        using var file = GgufFile.Open(SyntheticFixtures.PathOf(FileQuantizationOracleTests.Llama8()));
        var plan = GgufQuantizer.Plan(file, new QuantizeOptions { FileType = QuantizationFileType.Parse("Q4_K_M") });
        string TypeOf(string name) => GgmlTypeInfo.Name(plan.Tensors.Single(t => t.Name == name).To);

        // use_more_bits with 8 layers: the first eighth (0), the last eighth (7) and every third from 1 (3, 6).
        int[] moreBits = [0, 3, 6, 7];
        for (int layer = 0; layer < 8; layer++)
        {
            string expected = moreBits.Contains(layer) ? "Q6_K" : "Q4_K";
            Assert.Equal(expected, TypeOf($"blk.{layer}.attn_v.weight"));
            Assert.Equal(expected, TypeOf($"blk.{layer}.ffn_down.weight"));
            Assert.Equal("Q4_K", TypeOf($"blk.{layer}.attn_q.weight"));
            Assert.Equal("Q4_K", TypeOf($"blk.{layer}.ffn_up.weight"));
            Assert.Equal("F32", TypeOf($"blk.{layer}.attn_norm.weight"));
        }
        Assert.Equal("Q6_K", TypeOf("output.weight"));
        Assert.Equal("Q4_K", TypeOf("token_embd.weight"));
        Assert.Equal("F32", TypeOf("rope_freqs.weight"));
        Assert.Equal("F32", TypeOf("output_norm.weight"));
        // llama.cpp's order: tensors outside blocks by name, then block 0..7, each by name.
        Assert.Equal(["output.weight", "output_norm.weight", "rope_freqs.weight", "token_embd.weight", "blk.0.attn_k.weight"],
            plan.Tensors.Take(5).Select(t => t.Name));
    }

    [Fact]
    public void Pure_Q4_K_puts_every_matrix_in_Q4_K_and_leaves_vectors_in_F32()
    {
        using var file = GgufFile.Open(SyntheticFixtures.PathOf(FileQuantizationOracleTests.Llama8()));
        var plan = GgufQuantizer.Plan(file, new QuantizeOptions { FileType = QuantizationFileType.Parse("Q4_K"), Pure = true });
        Assert.All(plan.Tensors, t => Assert.Equal(t.Dimensions.Length == 1 ? GgmlType.F32 : GgmlType.Q4_K, t.To));
        Assert.Equal(15u, plan.FileType.Id);  // Q4_K is llama-quantize's alias of Q4_K_M
    }

    public static TheoryData<string, string> Shapes()
    {
        var data = new TheoryData<string, string>();
        foreach (var type in new[] { "Q4_K_M", "Q5_K_M", "Q3_K_M", "Q2_K", "Q4_K_S", "Q4_0" })
            data.Add("fused-qkv", type);
        // With 8 experts attn_v and attn_k go to Q8_0 and attn_output to Q5_K; ffn_down's layer comes from its name.
        foreach (var type in new[] { "Q4_K_M", "Q2_K", "Q4_0" })
            data.Add("experts", type);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Tensor_types_match_llama_cpp_for_fused_qkv_and_expert_models(string shape, string type)
    {
        string source = SyntheticFixtures.NewPath(shape);
        File.WriteAllBytes(source, (shape == "fused-qkv" ? FusedQkvModel() : ExpertModel()).ToArray());
        var fileType = QuantizationFileType.Parse(type);
        string expectedPath = SyntheticFixtures.NewPath($"{shape}-llama-{type}"), actualPath = SyntheticFixtures.NewPath($"{shape}-frugal-{type}");
        LlamaQuantize.Run(source, expectedPath, fileType.Id);
        GgufQuantizer.Run(source, actualPath, new QuantizeOptions { FileType = fileType, Threads = 2 });

        using var expected = GgufFile.Open(expectedPath);
        using var actual = GgufFile.Open(actualPath);
        Assert.Equal(expected.Tensors.Select(t => $"{t.Name} {GgmlTypeInfo.Name(t.Type)}"), actual.Tensors.Select(t => $"{t.Name} {GgmlTypeInfo.Name(t.Type)}"));
        Assert.True(File.ReadAllBytes(expectedPath).AsSpan().SequenceEqual(File.ReadAllBytes(actualPath)), $"{shape} {type}: the files differ");
    }

    private const int Width = 256, Layers = 8, Ff = 512, ExpertFf = 256, Vocab = 512;

    /// <summary>A Phi-3-style file: one attn_qkv matrix per layer (3 x 256 rows), an up projection that also holds the gate.</summary>
    private static GgufWriter FusedQkvModel()
    {
        var w = Header("phi3", experts: 0, Ff);
        var rng = new Random(5);
        Matrix(w, rng, "token_embd.weight", Width, Vocab);
        Matrix(w, rng, "output.weight", Width, Vocab);
        w.AddTensor("output_norm.weight", [Width], Ones(Width));
        for (int i = 0; i < Layers; i++)
        {
            w.AddTensor($"blk.{i}.attn_norm.weight", [Width], Ones(Width));
            Matrix(w, rng, $"blk.{i}.attn_qkv.weight", Width, 3 * Width);
            Matrix(w, rng, $"blk.{i}.attn_output.weight", Width, Width);
            w.AddTensor($"blk.{i}.ffn_norm.weight", [Width], Ones(Width));
            Matrix(w, rng, $"blk.{i}.ffn_up.weight", Width, 2 * Ff);
            Matrix(w, rng, $"blk.{i}.ffn_down.weight", Ff, Width);
        }
        return w;
    }

    /// <summary>A Mixtral-style llama file: 8 experts per layer in 3-D ffn_*_exps tensors and an F32 router.</summary>
    private static GgufWriter ExpertModel()
    {
        const int experts = 8;
        var w = Header("llama", experts, ExpertFf);
        var rng = new Random(6);
        Matrix(w, rng, "token_embd.weight", Width, Vocab);
        Matrix(w, rng, "output.weight", Width, Vocab);
        w.AddTensor("output_norm.weight", [Width], Ones(Width));
        for (int i = 0; i < Layers; i++)
        {
            w.AddTensor($"blk.{i}.attn_norm.weight", [Width], Ones(Width));
            Matrix(w, rng, $"blk.{i}.attn_q.weight", Width, Width);
            Matrix(w, rng, $"blk.{i}.attn_k.weight", Width, Width / 2);
            Matrix(w, rng, $"blk.{i}.attn_v.weight", Width, Width / 2);
            Matrix(w, rng, $"blk.{i}.attn_output.weight", Width, Width);
            w.AddTensor($"blk.{i}.ffn_norm.weight", [Width], Ones(Width));
            w.AddTensor($"blk.{i}.ffn_gate_inp.weight", [Width, experts], Random(rng, Width * experts));
            Matrix(w, rng, $"blk.{i}.ffn_gate_exps.weight", Width, ExpertFf, experts);
            Matrix(w, rng, $"blk.{i}.ffn_up_exps.weight", Width, ExpertFf, experts);
            Matrix(w, rng, $"blk.{i}.ffn_down_exps.weight", ExpertFf, Width, experts);
        }
        return w;
    }

    private static GgufWriter Header(string arch, int experts, int ff)
    {
        var w = new GgufWriter()
            .Add("general.architecture", arch)
            .Add("general.name", $"recipe-{arch}")
            .Add($"{arch}.vocab_size", (uint)Vocab)
            .Add($"{arch}.context_length", 512u)
            .Add($"{arch}.embedding_length", (uint)Width)
            .Add($"{arch}.block_count", (uint)Layers)
            .Add($"{arch}.feed_forward_length", (uint)ff)
            .Add($"{arch}.attention.head_count", 4u)
            .Add($"{arch}.attention.head_count_kv", 2u)
            .Add($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f)
            .Add($"{arch}.rope.dimension_count", 64u)
            .Add($"{arch}.rope.freq_base", 10000f);
        if (experts > 0)
            w.Add($"{arch}.expert_count", (uint)experts).Add($"{arch}.expert_used_count", 2u);
        SyntheticVocabulary.AddTo(w, Vocab);
        return w;
    }

    private static void Matrix(GgufWriter w, Random rng, string name, int columns, int rows, int experts = 1)
    {
        long[] dims = experts == 1 ? [columns, rows] : [columns, rows, experts];
        w.AddTensor(name, GgmlType.F16, dims, SyntheticModelWriter.Encode(GgmlType.F16, Random(rng, columns * rows * experts), name));
    }

    private static float[] Random(Random rng, int n)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * 0.1f;
        return values;
    }

    private static float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();
}
