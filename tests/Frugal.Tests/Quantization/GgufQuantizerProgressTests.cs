using Frugal.Gguf.Quantization;
using Frugal.Tests.Models;

namespace Frugal.Tests.Quantization;

/// <summary>The progress a quantization reports: every tensor started and finished once, in file order, never going back.</summary>
public class GgufQuantizerProgressTests
{
    [Fact]
    public void Progress_starts_and_finishes_each_tensor_once_in_order_and_ends_at_the_whole_model()
    {
        var reports = new List<QuantizationProgress>();
        string output = SyntheticFixtures.NewPath("progress");
        var result = GgufQuantizer.Run(SyntheticFixtures.PathOf(FileQuantizationOracleTests.Llama8()), output,
            new QuantizeOptions { FileType = QuantizationFileType.Parse("Q6_K"), Threads = 2 }, reports.Add);

        int tensors = result.Plan.Tensors.Count;
        Assert.Equal(Enumerable.Range(0, tensors), reports.Where(r => r.Fraction == 0).Select(r => r.Index));
        Assert.Equal(Enumerable.Range(0, tensors), reports.Where(r => r.Fraction == 1).Select(r => r.Index));
        for (int i = 1; i < reports.Count; i++)
            Assert.True(reports[i].Overall >= reports[i - 1].Overall, $"progress went back at report {i}");
        Assert.Equal(1.0, reports[^1].Overall, 12);
        Assert.Equal(result.OutputFileBytes, new FileInfo(output).Length);
        Assert.Equal(result.Plan.BytesAfter, result.Plan.Tensors.Sum(t => t.BytesAfter));
        Assert.True(result.Plan.BytesAfter < result.Plan.BytesBefore / 2);
    }
}
