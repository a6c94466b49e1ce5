using Frugal.Numerics.Attention;

namespace Frugal.Models;

/// <summary>
/// The attention kernel of each layer: one <see cref="PagedAttention"/> per distinct sliding window (a model without
/// windows has one for all layers), each planned once per step with its window, so windowed layers read only the
/// blocks their window reaches while global layers read the whole history.
/// </summary>
internal sealed partial class DecoderTransformer
{
    private PagedAttention[] CreateLayerAttention()
    {
        var c = Config;
        var byWindow = new Dictionary<int, PagedAttention>();
        var layers = new PagedAttention[c.BlockCount];
        for (int l = 0; l < layers.Length; l++)
        {
            int window = c.SlidingWindowOf(l);
            if (!byWindow.TryGetValue(window, out var kernel))
                byWindow[window] = kernel = new PagedAttention(c.HeadCount, c.HeadCountKv, c.HeadDim, c.AttentionScale, c.AttentionSoftCap);
            layers[l] = kernel;
        }
        return layers;
    }

    private void PlanLayerAttention(PagedAttention[] layers, ReadOnlySpan<AttentionSequence> sequences, int threads)
    {
        var c = Config;
        for (int l = 0; l < layers.Length; l++)
        {
            // Layers sharing a kernel come after the first that planned it.
            bool planned = false;
            for (int e = 0; e < l && !planned; e++) planned = ReferenceEquals(layers[e], layers[l]);
            if (!planned) layers[l].Plan(sequences, threads, c.SlidingWindowOf(l));
        }
    }

    private PagedAttention AttentionOf(int layer) => _attention![layer];
}
