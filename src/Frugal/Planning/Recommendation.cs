using Frugal.Numerics.Attention;

namespace Frugal.Planning;

/// <summary>
/// Settings that fit this machine, for a plan asked without a budget: the KV type and the context, and a weight budget
/// when the weights do not fit beside them.
/// </summary>
public sealed record Recommendation(long? MemoryBudget, KvCacheTypes CacheTypes, int Context, ModelPlan? Plan, string Reason)
{
    /// <summary>Share of the usable memory a recommendation leaves free (other programs, the page cache, estimation error).</summary>
    public const double Headroom = 0.10;

    /// <summary>KV types from the most exact to the smallest; the first with which the context fits is taken.</summary>
    private static readonly KvElementType[] ByExactness = [KvElementType.F16, KvElementType.Q8_0, KvElementType.Q4_0, KvElementType.Kivi4, KvElementType.Kivi2];

    public static Recommendation Make(ModelShape shape, MachineProfile machine, PlanSettings asked, PlanCalibration? calibration = null)
    {
        var c = shape.Config;
        long usable = (long)(machine.UsableMemoryBytes * (1 - Headroom));
        int target = asked.ContextFor(c.ContextLength);
        var types = ByExactness.Select(t => new KvCacheTypes(t, t)).Where(t => Fits(t, c.HeadDim)).ToList();
        ModelPlan PlanFor(KvCacheTypes t, int ctx, long? budget) =>
            ModelPlan.Make(shape, asked with { CacheTypes = t, ContextLength = ctx, MemoryBudget = budget }, machine, calibration);

        // Everything resident: the most exact KV type whose pool for the asked context fits, then the longest context.
        foreach (var t in types)
        {
            var plan = PlanFor(t, target, null);
            if (plan.Memory.PeakBytes > usable) continue;
            int ctx = target;
            for (int next = ctx * 2; ; next *= 2)
            {
                int n = Math.Min(next, c.ContextLength);
                if (n <= ctx) break;
                var longer = PlanFor(t, n, null);
                if (longer.Memory.PeakBytes > usable) break;
                (ctx, plan) = (n, longer);
            }
            return new Recommendation(null, t, ctx, plan,
                $"the weights and a {ctx}-position {KvElementTypes.Name(t.Keys)} KV pool fit in {Frugal.Numerics.ByteSize.Format(usable)} (usable memory less {Headroom:P0}): no budget needed");
        }

        // The weights do not fit beside the KV: the smallest KV type, a budget for what is left, shorter contexts if need be.
        var small = types[^1];
        for (int ctx = target; ctx >= Math.Min(target, 256); ctx /= 2)
        {
            var none = PlanFor(small, ctx, null);
            long rest = none.Memory.PeakBytes - none.Memory.ResidentWeightRamBytes; // KV, scratch, runtime
            long budget = usable - rest;
            if (budget >= 64L << 20) budget = budget / (1L << 20) * (1L << 20); // whole MiB, as people type it
            if (budget <= 0) continue;
            try
            {
                var plan = PlanFor(small, ctx, budget);
                if (plan.Memory.PeakBytes <= usable)
                    return new Recommendation(budget, small, ctx, plan,
                        $"the weights ({Frugal.Numerics.ByteSize.Format(shape.WeightBytes)}) do not fit in {Frugal.Numerics.ByteSize.Format(usable)} beside the KV: stream the rest under --mem-budget {Frugal.Numerics.ByteSize.Format(budget)}");
            }
            catch (ArgumentException)
            {
                // the budget is below the stream buffers: try a shorter context
            }
        }
        return new Recommendation(null, small, target, null,
            $"this model does not fit in {Frugal.Numerics.ByteSize.Format(usable)} even streamed: its largest layer's buffers, the KV and the runtime need more");
    }

    private static bool Fits(KvCacheTypes t, int headDim)
    {
        try
        {
            t.CheckHeadDim(headDim);
            return true;
        }
        catch (NotSupportedException)
        {
            return false;
        }
    }
}
