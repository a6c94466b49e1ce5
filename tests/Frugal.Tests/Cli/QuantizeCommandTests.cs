using Frugal.Gguf;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Models;
using Frugal.Tests.Quantization;

namespace Frugal.Tests.Cli;

/// <summary><c>frugal quantize</c> as a user runs it: the summary, the per-tensor log, and every error a user can cause.</summary>
public sealed class QuantizeCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static string Source => SyntheticFixtures.PathOf(FileQuantizationOracleTests.Llama8());

    private static byte[] SourceBytes(string tensor)
    {
        using var file = GgufFile.Open(Source);
        return file.GetTensorBytes(file.GetTensor(tensor)).ToArray();
    }

    private string Out(string name) => Path.Combine(_cli.Directory, name);

    private static void AssertCleanFailure(CliHarness.Outcome o, params string[] expected)
    {
        Assert.NotEqual(0, o.ExitCode);
        foreach (var e in expected) Assert.Contains(e, o.Error);
        Assert.DoesNotContain("   at ", o.Error + o.Out);
        Assert.DoesNotContain("Exception", o.Error);
    }

    [Fact]
    public void Quantize_prints_one_line_per_tensor_and_a_summary_of_types_and_sizes()
    {
        string output = Out("q4km.gguf");
        var o = _cli.Run("quantize", Source, output, "q4_k_m", "--threads", "2");

        Assert.Equal(0, o.ExitCode);
        using var file = GgufFile.Open(output);
        Assert.Equal(15L, file.GetInt("general.file_type"));
        int tensors = file.Tensors.Count;
        var lines = o.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(tensors, lines.Length);
        Assert.Contains($"[ 5/{tensors}] blk.0.attn_k.weight [256, 128] F16 -> Q4_K, 64.0 KiB -> 18.0 KiB", lines);
        Assert.Contains($"[ 1/{tensors}] output.weight [256, 512] F16 -> Q6_K, 256.0 KiB -> 105.0 KiB", lines);
        Assert.Contains($"[ 2/{tensors}] output_norm.weight [256] F32, copied, 1.0 KiB", lines);

        Assert.Contains($"wrote {output} (Q4_K_M, general.file_type 15)", o.Out);
        int q6 = file.Tensors.Count(t => t.Type == GgmlType.Q6_K);
        Assert.Equal(9, q6);  // output + attn_v and ffn_down of layers 0, 3, 6, 7
        Assert.Matches($@"  Q6_K\s+{q6} tensors", o.Out);
        Assert.Contains($"tensors: {tensors}, {tensors - 18} converted, 18 copied as they were", o.Out);  // 17 norms + rope_freqs
        long before = new FileInfo(Source).Length, after = new FileInfo(output).Length;
        Assert.Contains($"size: {Bytes(before)} -> {Bytes(after)}", o.Out);
        Assert.True(after < before / 3, $"Q4_K_M of an F16 file should be under a third of it: {before} -> {after}");
    }

    [Fact]
    public void Unknown_type_lists_the_valid_ones()
    {
        var o = _cli.Run("quantize", Source, Out("x.gguf"), "Q4_K_XL");
        AssertCleanFailure(o, "error: unknown quantization type 'Q4_K_XL'; valid types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, F16, BF16, F32, Q3_K, Q4_K, Q5_K");
        Assert.False(File.Exists(Out("x.gguf")));
    }

    [Fact]
    public void Output_that_is_the_input_is_refused_and_the_input_is_untouched()
    {
        string copy = Out("model.gguf");
        File.Copy(Source, copy);
        byte[] before = File.ReadAllBytes(copy);
        var o = _cli.Run("quantize", copy, Path.Combine(_cli.Directory, ".", "model.gguf"), "Q8_0");
        AssertCleanFailure(o, $"error: OUT is the input file '{copy}': write the quantized model to another path");
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [Fact]
    public void An_already_quantized_input_needs_allow_requantize()
    {
        string q8 = Out("q8.gguf"), q4 = Out("q4.gguf");
        Assert.Equal(0, _cli.Run("quantize", Source, q8, "Q8_0").ExitCode);

        var refused = _cli.Run("quantize", q8, q4, "Q4_0");
        AssertCleanFailure(refused, "error: tensor 'output.weight' is already quantized (Q8_0); quantizing it again to Q6_K loses quality twice", "--allow-requantize");
        Assert.False(File.Exists(q4));
        Assert.False(File.Exists(q4 + ".partial"));

        var allowed = _cli.Run("quantize", q8, q4, "Q4_0", "--allow-requantize");
        Assert.Equal(0, allowed.ExitCode);
        using var file = GgufFile.Open(q4);
        Assert.Equal(GgmlType.Q4_0, file.GetTensor("blk.0.attn_q.weight").Type);
    }

    [Fact]
    public void An_input_in_a_type_frugal_cannot_read_names_the_tensor_and_the_type()
    {
        string source = Out("iq.gguf");
        File.WriteAllBytes(source, SyntheticFixtures.Rewrite(Source, tensor: t => t.Name == "blk.2.ffn_up.weight"
            ? (GgmlType.IQ2_XXS, t.Dimensions, new byte[GgmlTypeInfo.RowBytes(GgmlType.IQ2_XXS, t.ElementCount)])
            : (t.Type, t.Dimensions, SourceBytes(t.Name))));
        var o = _cli.Run("quantize", source, Out("q.gguf"), "Q4_K_M", "--allow-requantize");
        AssertCleanFailure(o, "error: tensor 'blk.2.ffn_up.weight' is IQ2_XXS, a type Frugal cannot read back into floats");
    }

    [Fact]
    public void An_input_tensor_already_in_its_target_type_is_copied_as_it_is()
    {
        // Pure Q4_0 keeps a Q4_0 tensor as it is: no requantizing, no permission needed.
        string source = Out("mixed.gguf");
        var q4 = new byte[GgmlTypeInfo.RowBytes(GgmlType.Q4_0, 256 * 256)];
        new Random(3).NextBytes(q4);
        File.WriteAllBytes(source, SyntheticFixtures.Rewrite(Source, tensor: t => t.Name == "blk.1.attn_q.weight"
            ? (GgmlType.Q4_0, t.Dimensions, q4)
            : (t.Type, t.Dimensions, SourceBytes(t.Name))));
        string output = Out("q.gguf");
        Assert.Equal(0, _cli.Run("quantize", source, output, "Q4_0", "--pure").ExitCode);
        using var file = GgufFile.Open(output);
        Assert.Equal(q4, file.GetTensorBytes(file.GetTensor("blk.1.attn_q.weight")).ToArray());
    }

    [Fact]
    public void A_weight_that_is_not_a_number_fails_the_run_and_leaves_no_output()
    {
        string source = Out("nan.gguf");
        File.WriteAllBytes(source, SyntheticFixtures.Rewrite(Source, tensor: t =>
        {
            byte[] data = SourceBytes(t.Name);
            if (t.Name == "blk.4.ffn_gate.weight")
                BitConverter.TryWriteBytes(data.AsSpan(2 * (3 * 256 + 7)), (Half)float.NaN);
            return (t.Type, t.Dimensions, data);
        }));
        string output = Out("q.gguf");
        var o = _cli.Run("quantize", source, output, "Q4_0", "-t", "3");
        AssertCleanFailure(o, "error: tensor 'blk.4.ffn_gate.weight' row 3 holds NaN");
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".partial"));
    }

    [Fact]
    public void Missing_input_and_bad_thread_counts_are_reported()
    {
        AssertCleanFailure(_cli.Run("quantize", Out("absent.gguf"), Out("q.gguf"), "Q8_0"), "error: model file not found");
        AssertCleanFailure(_cli.Run("quantize", Source, Out("q.gguf"), "Q8_0", "--threads", "0"), "error: -t/--threads: expected at least 1 thread, got 0");
    }

    private static string Bytes(long n) => n switch
    {
        >= 1L << 20 => $"{n / (double)(1L << 20):F2} MiB",
        _ => $"{n / 1024.0:F1} KiB",
    };
}
