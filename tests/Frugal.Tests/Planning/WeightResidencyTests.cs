using Frugal.Models.Residency;

namespace Frugal.Tests.Planning;

public class WeightResidencyTests
{
    // 4 layers of 100 bytes of matrices (2 x 50) and 2-byte norms; output 120, token_embd 80, output_norm 2.
    private static List<WeightTensor> Model()
    {
        var t = new List<WeightTensor>
        {
            new("token_embd.weight", 80, -1, false),
            new("output.weight", 120, -1, false),
            new("output_norm.weight", 2, -1, true),
        };
        for (int l = 0; l < 4; l++)
        {
            t.Add(new($"blk.{l}.attn_norm.weight", 2, l, true));
            t.Add(new($"blk.{l}.attn_q.weight", 50, l, false));
            t.Add(new($"blk.{l}.ffn_down.weight", 50, l, false));
        }
        return t;
    }

    private const long Total = 80 + 120 + 2 + 4 * 102;

    [Fact]
    public void No_budget_or_a_budget_the_model_fits_keeps_everything_resident()
    {
        foreach (long? budget in new long?[] { null, Total, Total + 1 })
        {
            var r = WeightResidency.Plan(Model(), budget);
            Assert.False(r.IsStreaming);
            Assert.Equal(4, r.ResidentLayerCount);
            Assert.Empty(r.StreamedLayers);
            Assert.Equal(Total, r.ResidentWeightBytes);
            Assert.Equal(Total, r.PeakWeightBytes);
        }
    }

    [Fact]
    public void A_smaller_budget_pins_vectors_and_globals_then_keeps_the_first_layers_and_streams_the_rest()
    {
        // vectors 10 + output 120 + token_embd 80 = 210; buffers 2 x 100 = 200; room for one layer at 510.
        var r = WeightResidency.Plan(Model(), 510);
        Assert.True(r.IsStreaming);
        Assert.Empty(r.StreamedGlobals);
        Assert.Equal(1, r.ResidentLayerCount);
        Assert.Equal([1, 2, 3], r.StreamedLayers);
        Assert.Equal(2, r.BufferCount);
        Assert.Equal(100, r.BufferBytes);
        Assert.Equal(210 + 100, r.ResidentWeightBytes);
        Assert.Equal(300, r.StreamedBytes);
        Assert.True(r.PeakWeightBytes <= 510);
    }

    [Fact]
    public void Globals_that_do_not_fit_stream_and_size_the_buffers_and_an_untied_embedding_is_gathered_by_rows()
    {
        // vectors 10; output 120 cannot sit beside buffers of 2 x 100 in 300, so it streams and the buffers grow to
        // 120; token_embd 80 does not fit either (10 + 80 + 240 > 300), and being untied (the file has an output) it
        // is gathered row by row from the file: no buffer, no bytes per step.
        var r = WeightResidency.Plan(Model(), 300);
        Assert.Equal(["output.weight"], r.StreamedGlobals);
        Assert.True(r.EmbeddingGathered);
        Assert.Equal(120, r.BufferBytes);
        Assert.Equal(0, r.ResidentLayerCount);
        Assert.Equal(400 + 120, r.StreamedBytes);
        Assert.Equal(10, r.ResidentWeightBytes);
        Assert.True(r.PeakWeightBytes <= 300);
    }

    [Fact]
    public void A_tied_embedding_that_does_not_fit_streams_each_step_as_the_output()
    {
        // No output.weight: token_embd (80) is the output projection, read whole every step, so it streams as a unit.
        var tied = Model().Where(t => t.Name != "output.weight").ToList();
        var r = WeightResidency.Plan(tied, 210);
        Assert.Equal(["token_embd.weight"], r.StreamedGlobals);
        Assert.False(r.EmbeddingGathered);
        Assert.Equal(100, r.BufferBytes);
        Assert.Equal(400 + 80, r.StreamedBytes);
        Assert.True(r.PeakWeightBytes <= 210);
    }

    [Fact]
    public void Deeper_read_ahead_takes_more_buffers_and_leaves_fewer_layers_resident()
    {
        // 609, one byte short of the whole model: 210 pinned + 2 x 100 buffers leave one layer; 3 buffers leave none.
        var one = WeightResidency.Plan(Model(), 609, readAhead: 1);
        var two = WeightResidency.Plan(Model(), 609, readAhead: 2);
        Assert.Equal((2, 1), (one.BufferCount, one.ResidentLayerCount));
        Assert.Equal((3, 0), (two.BufferCount, two.ResidentLayerCount));
        Assert.Equal(400, two.StreamedBytes);
        Assert.True(two.PeakWeightBytes <= 609);
    }

    [Fact]
    public void A_budget_below_the_vectors_and_buffers_is_refused_with_the_smallest_that_works()
    {
        var e = Assert.Throws<ArgumentException>(() => WeightResidency.Plan(Model(), 200));
        Assert.Contains("too small", e.Message);
        Assert.Contains("250 B", e.Message); // 10 of vectors + 2 x 120 (output streams, so it sizes the buffers)
    }

    [Theory]
    [InlineData("blk.0.attn_q.weight", 0)]
    [InlineData("blk.31.ffn_down.weight", 31)]
    [InlineData("output.weight", -1)]
    [InlineData("blk.x.attn_q.weight", -1)]
    public void Layer_of_a_tensor_name(string name, int layer) => Assert.Equal(layer, WeightTensor.LayerOf(name));
}
