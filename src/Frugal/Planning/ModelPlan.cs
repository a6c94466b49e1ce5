using Frugal.Models.Residency;

namespace Frugal.Planning;

/// <summary>
/// The plan for one (model, machine, settings) triple: which weights stay resident and which stream
/// (<see cref="WeightResidency"/>, the policy the streaming loader runs), peak resident memory part by part, and the
/// predicted prefill and decode rates with the resource that limits each.
/// </summary>
public sealed record ModelPlan
{
    public required ModelShape Shape { get; init; }

    public required PlanSettings Settings { get; init; }

    public required MachineProfile Machine { get; init; }

    public required WeightResidency Residency { get; init; }

    public required MemoryPlan Memory { get; init; }

    public required SpeedPlan Speed { get; init; }

    /// <summary>The context the KV pool is sized for (per sequence).</summary>
    public int Context => Settings.ContextFor(Shape.Config.ContextLength);

    /// <summary>Whether the predicted peak fits what the machine can allocate now.</summary>
    public bool Fits => Memory.PeakBytes <= Machine.UsableMemoryBytes;

    /// <exception cref="ArgumentException">a budget too small for the norms and the stream buffers (the message names the smallest).</exception>
    public static ModelPlan Make(ModelShape shape, PlanSettings settings, MachineProfile machine, PlanCalibration? calibration = null)
    {
        calibration ??= PlanCalibration.Default;
        settings.Validate();
        settings.CacheTypes.CheckHeadDim(shape.Config.HeadDim);
        var residency = WeightResidency.Plan(shape.Tensors.Select(t => t.Residency).ToList(), settings.MemoryBudget, settings.ReadAhead);
        var memory = MemoryPlan.Make(shape, residency, settings, machine.RuntimeBytes, calibration);
        // The streamed part of the file stays in the page cache when the memory left beside the run holds it.
        bool cached = residency.IsStreaming && machine.UsableMemoryBytes - memory.PeakBytes >= residency.StreamedBytes;
        var speed = SpeedPlan.Make(shape, residency, settings, machine, calibration, cached);
        return new ModelPlan { Shape = shape, Settings = settings, Machine = machine, Residency = residency, Memory = memory, Speed = speed };
    }
}
