using Frugal.Gguf;
using Frugal.Inference.Benchmarking;
using Frugal.Numerics;
using Frugal.Planning;

namespace Frugal.Tests.Planning;

/// <summary>
/// The planner's stream probe reads the model's own matrices as the streaming reader does: every type the forward
/// multiplies by is read, a type gets a repack rate exactly when this CPU's kernels repack it, and at most the asked
/// bytes per type are read (whole groups of 16 rows, the last layers first).
/// </summary>
public class StreamFillProbeTests
{
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.F16)]
    public void Reads_each_multiplied_type_and_repacks_where_this_cpu_repacks(GgmlType type)
    {
        string path = Path.Combine(Path.GetTempPath(), $"frugal-streamprobe-{type}-{Guid.NewGuid():N}.gguf");
        try
        {
            PlanFixtures.WriteLlama(path, layers: 4, dim: 256, ff: 512, heads: 4, kvHeads: 2, vocab: 512, type);
            using var file = GgufFile.Open(path);
            var shape = ModelShape.FromGguf(file);
            var tensors = shape.MultipliedMatrices().OrderBy(t => t.Layer)
                .Select(t => new StreamFillTensor(t.Type, t.FileOffset, t.Rows, t.Cols)).ToList();

            var rates = StreamFillProbe.Measure(path, tensors, bytesPerType: 1L << 20, passes: 1);

            Assert.True(rates.ReadBytesPerSecond > 0 && double.IsFinite(rates.ReadBytesPerSecond), $"read rate {rates.ReadBytesPerSecond}");
            bool repacks = StreamedMatrix.StagingBytes(type, 512, 256) > 0;
            Assert.Equal(repacks, rates.RepackBytesPerSecond.ContainsKey(type));
            Assert.DoesNotContain(GgmlType.F32, rates.RepackBytesPerSecond.Keys);
            if (repacks) Assert.True(rates.RepackBytesPerSecond[type] > 0 && double.IsFinite(rates.RepackBytesPerSecond[type]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_matrix_past_the_end_of_the_file_is_an_error_naming_the_offset()
    {
        string path = Path.Combine(Path.GetTempPath(), $"frugal-streamprobe-short-{Guid.NewGuid():N}.bin");
        try
        {
            File.WriteAllBytes(path, new byte[4096]);
            var e = Assert.Throws<EndOfStreamException>(() =>
                StreamFillProbe.Measure(path, [new StreamFillTensor(GgmlType.Q8_0, 0, 64, 256)], passes: 1));
            Assert.Contains("ended at byte 4096", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
