using Frugal.Gguf;
using Frugal.Models;
using Frugal.Numerics;
using Frugal.Numerics.Attention;
using Frugal.Planning;

namespace Frugal.Tests.Planning;

/// <summary>
/// The planner's arithmetic on a header-only llama fixture whose every size is computed by hand below: 6 layers,
/// dim 64, ff 128, 2 heads of 32, 1 KV head, vocabulary 256, Q4_1 matrices (20 bytes per 32 elements; no repacked
/// layout, so RAM holds the file's bytes), F32 norms.
/// </summary>
public sealed class ModelPlanTests : IDisposable
{
    // Q4_1 rows of 64 elements take 40 bytes, of 128 take 80.
    // Per layer: q 64x40 = 2560, k 32x40 = 1280, v 1280, o 2560, gate 128x40 = 5120, up 5120, down 64x80 = 5120: 23040.
    private const long LayerMatrices = 23040;
    private const long Embedding = 256 * 40;               // token_embd and output: 10240 each
    private const long Vectors = 256 + 6 * 2 * 256;        // output_norm and two norms per layer, F32: 3328
    private const long Total = 2 * Embedding + Vectors + 6 * LayerMatrices; // 162048

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "frugal-plan-tests-" + Guid.NewGuid().ToString("N"));
    private readonly ModelShape _shape;

    public ModelPlanTests()
    {
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "small.gguf");
        PlanFixtures.WriteLlama(path, layers: 6, dim: 64, ff: 128, heads: 2, kvHeads: 1, vocab: 256, GgmlType.Q4_1);
        using var file = GgufFile.Open(path);
        _shape = ModelShape.FromGguf(file);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly PlanCalibration Calibration = new()
    {
        DecodeBandwidthFractionByType = new Dictionary<GgmlType, double>(),
        DecodeBandwidthFraction = 0.5,
        PrefillEfficiency = 0.5,
        ComputeOverheadBytes = 1 << 20,
    };

    private static MachineProfile Machine(long available = 8L << 30, double disk = 1e9, double cache = 5e9) => PlanFixtures.Machine(available) with
    {
        MatMulFlopsPerSecond = new Dictionary<GgmlType, double> { [GgmlType.Q4_1] = 100e9 },
        DiskReadBytesPerSecond = disk,
        PageCacheReadBytesPerSecond = cache,
    };

    private ModelPlan Plan(PlanSettings settings, MachineProfile? machine = null) =>
        ModelPlan.Make(_shape, settings, machine ?? Machine(), Calibration);

    [Fact]
    public void The_header_gives_the_shape_and_the_decode_traffic()
    {
        Assert.Equal(Total, _shape.WeightBytes);
        Assert.Equal((6, 32, 1, 64), (_shape.Config.BlockCount, _shape.Config.HeadDim, _shape.Config.HeadCountKv, _shape.Config.EmbeddingLength));
        Assert.Equal(6 * LayerMatrices + Embedding, _shape.DecodeWeightBytes); // output read, token_embd only gathered
        Assert.Equal(GgmlType.Q4_1, _shape.MainType);
    }

    [Theory]
    // 100 positions in blocks of 16: 7 blocks, 112 positions; f16: 6 layers x (64 + 64) bytes = 768 per position.
    [InlineData("f16", 112 * 768)]
    // q8_0: 34 bytes per 32 elements: 6 x (34 + 34) = 408 per position.
    [InlineData("q8_0", 112 * 408)]
    // q4_0: 18 bytes per 32: 6 x 36 = 216.
    [InlineData("q4_0", 112 * 216)]
    // kivi2, blocks of 32 (4 blocks, 128 positions): keys 4x32 + 32x32x2/8 + 16 exact entries x 4 = 448 per block,
    // values 32 x (4 + 8) = 384 per block: 6 x 832/32 = 156 per position; residual: 6 layers x 1 slot x 2 sides x 32 x 32
    // x 2 = 24576.
    [InlineData("kivi2", 128 * 156 + 24576)]
    // kivi4: keys 128 + 512 = 640, values 32 x (4 + 16) = 640: 6 x 1280/32 = 240 per position, the same residual.
    [InlineData("kivi4", 128 * 240 + 24576)]
    public void Kv_bytes_follow_the_stores_formula(string type, long expected)
    {
        var t = KvElementTypes.Parse(type);
        var plan = Plan(new PlanSettings { ContextLength = 100, CacheTypes = new KvCacheTypes(t, t) });
        Assert.Equal(expected, plan.Memory.KvBytes);
    }

    [Theory]
    [InlineData("f16", 3, 2)]
    [InlineData("q8_0", 5, 1)]
    [InlineData("kivi2", 7, 3)]
    [InlineData("kivi4", 2, 2)]
    public void The_static_kv_formula_equals_what_a_store_allocates(string type, int blocks, int slots)
    {
        var t = KvElementTypes.Parse(type);
        var types = new KvCacheTypes(t, t);
        int blockSize = KvElementTypes.DefaultBlockSize(types);
        var store = new PagedKvStore(3, blocks, blockSize, 2, 64, types, slots);
        Assert.Equal(store.Bytes, PagedKvStore.BytesFor(3, blocks, blockSize, 2, 64, types, slots));
    }

    [Fact]
    public void Without_a_budget_everything_is_resident_and_the_peak_adds_up()
    {
        var plan = Plan(new PlanSettings { ContextLength = 100, PromptTokens = 64 });
        Assert.False(plan.Residency.IsStreaming);
        Assert.Equal(Total, plan.Memory.ResidentWeightBytes);
        // Matrices as in the file; each norm twice (its pages and the float copy).
        Assert.Equal(Total + Vectors, plan.Memory.ResidentWeightRamBytes);
        Assert.Equal(0, plan.Memory.RepackedBytes);
        Assert.Equal(0, plan.Memory.StreamBufferBytes);
        // Scratch for 64 tokens: 4 x 64 x (3x64 + 2x64 + 2x128 + 2x16) = 155648, and one row of logits 4 x 256.
        Assert.Equal(155648 + 1024, plan.Memory.ScratchBytes);
        Assert.Equal((50L << 20) + (1 << 20), plan.Memory.RuntimeBytes);
        Assert.Equal(Total + Vectors + 112 * 768 + 155648 + 1024 + (51L << 20), plan.Memory.PeakBytes);
        Assert.True(plan.Fits);
    }

    [Fact]
    public void A_budget_splits_as_the_residency_policy_does()
    {
        // Pinned: norms 3328, output 10240, token_embd 10240 = 23808, beside 2 buffers of one layer (46080). Layers
        // join while 23808 + 23040 k + 46080 <= 120000: k = 2. Streamed: layers 2..5 = 4 x 23040.
        var plan = Plan(new PlanSettings { MemoryBudget = 120000, ContextLength = 100, PromptTokens = 64 });
        Assert.True(plan.Residency.IsStreaming);
        Assert.Equal(2, plan.Residency.ResidentLayerCount);
        Assert.Equal(23808 + 2 * LayerMatrices, plan.Memory.ResidentWeightBytes);
        Assert.Equal(4 * LayerMatrices, plan.Residency.StreamedBytes);
        Assert.Equal(2 * LayerMatrices, plan.Memory.StreamBufferBytes);
        Assert.Equal(2 * Embedding + 2 * LayerMatrices + 2 * Vectors, plan.Memory.ResidentWeightRamBytes);
    }

    [Fact]
    public void Decode_is_the_weights_and_kv_over_the_calibrated_bandwidth()
    {
        var plan = Plan(new PlanSettings { ContextLength = 100, PromptTokens = 64 });
        // (6 x 23040 + 10240) bytes / (0.5 x 10 GB/s) + 768 x 64 KV bytes / (0.5 x 10 GB/s) = 3.95264e-5 s.
        Assert.Equal(3.95264e-5, plan.Speed.DecodeSeconds, 1e-12);
        Assert.Equal(LimitingResource.MemoryBandwidth, plan.Speed.DecodeLimitedBy);
    }

    [Fact]
    public void Prefill_is_the_multiplies_over_the_measured_rate_and_the_efficiency()
    {
        var plan = Plan(new PlanSettings { ContextLength = 100, PromptTokens = 64 });
        // Layer matrices hold 36864 elements each layer: 2 x 6 x 36864 x 64 FLOPs; the output only for the last
        // row: 2 x 256 x 64. (28311552 + 32768) / 100 GFLOP/s / 0.5 = 5.668864e-4 s for 64 tokens.
        Assert.Equal(5.668864e-4, plan.Speed.PrefillSeconds, 1e-12);
        Assert.Equal(64 / 5.668864e-4, plan.Speed.PrefillTokensPerSecond, 1e-6);
        Assert.Equal(LimitingResource.Compute, plan.Speed.PrefillLimitedBy);
    }

    [Fact]
    public void Streaming_from_a_slow_disk_limits_decode_and_prefill()
    {
        // The peak is 53839360 bytes (51 MiB runtime, weights, buffers, KV, scratch): 53900000 available leave less
        // than the 92160 streamed bytes to the page cache, so they come from the disk.
        var slow = Machine(available: 53900000, disk: 1e6);
        var plan = Plan(new PlanSettings { MemoryBudget = 120000, ContextLength = 100, PromptTokens = 64 }, slow);
        // The read, plus half the forward's 3.95264e-5 s (the calibrated cost of overlapping on shared cores).
        Assert.Equal(4 * LayerMatrices / 1e6 + 0.5 * 3.95264e-5, plan.Speed.DecodeSeconds, 1e-12);
        Assert.Equal(LimitingResource.Disk, plan.Speed.DecodeLimitedBy);
        Assert.Equal(LimitingResource.Disk, plan.Speed.PrefillLimitedBy);
        Assert.Equal(1e6, plan.Speed.StreamBytesPerSecond);
    }

    [Fact]
    public void Streaming_a_file_the_page_cache_holds_runs_at_the_cached_rate()
    {
        var plan = Plan(new PlanSettings { MemoryBudget = 120000, ContextLength = 100, PromptTokens = 64 }, Machine(cache: 1e6));
        Assert.Equal(LimitingResource.PageCache, plan.Speed.DecodeLimitedBy);
        Assert.Equal(4 * LayerMatrices / 1e6 + 0.5 * 3.95264e-5, plan.Speed.DecodeSeconds, 1e-12);
    }

    [Fact]
    public void The_plans_split_is_the_loaders_where_matrices_repack()
    {
        // Q8_0 repacks on AVX-512 machines (+6% in memory): the budget arithmetic must use the repacked size, as the
        // loader's does, or the plan keeps one layer more resident than the run.
        string path = Path.Combine(_dir, "q8.gguf");
        PlanFixtures.WriteLlama(path, layers: 6, dim: 64, ff: 128, heads: 2, kvHeads: 1, vocab: 256, GgmlType.Q8_0);
        using var file = GgufFile.Open(path);
        var shape = ModelShape.FromGguf(file);
        long total = shape.Tensors.Sum(t => t.Residency.MemoryBytes);
        for (long budget = total / 2; budget < total; budget += total / 16)
        {
            var plan = ModelPlan.Make(shape, new PlanSettings { MemoryBudget = budget, ContextLength = 100, PromptTokens = 64 }, Machine(), Calibration);
            var loader = Frugal.Models.Residency.WeightResidency.Plan(file, budget);
            Assert.Equal(loader.ResidentLayerCount, plan.Residency.ResidentLayerCount);
            Assert.Equal(loader.StreamedBytes, plan.Residency.StreamedBytes);
            Assert.Equal(loader.ResidentWeightBytes, plan.Residency.ResidentWeightBytes);
        }
    }

    [Fact]
    public void Streamed_matrices_that_repack_add_their_repack_time_to_the_read()
    {
        var types = Machine(cache: 1e6);
        var fixture = Plan(new PlanSettings { MemoryBudget = 120000, ContextLength = 100, PromptTokens = 64 }, types);
        var type = fixture.Shape.MultipliedMatrices().First(t => t.Layer >= 0).Type;
        var repacking = types with { RepackBytesPerSecond = new Dictionary<GgmlType, double> { [type] = 2e6 } };
        var plan = Plan(new PlanSettings { MemoryBudget = 120000, ContextLength = 100, PromptTokens = 64 }, repacking);
        // The 4 streamed layer matrices are read at 1 MB/s and repacked at 2 MB/s, one after the other on the reader.
        Assert.Equal(4 * LayerMatrices / 1e6 + 4 * LayerMatrices / 2e6 + 0.5 * 3.95264e-5, plan.Speed.DecodeSeconds, 1e-12);
    }

    [Fact]
    public void A_cgroup_limit_below_free_memory_is_what_counts()
    {
        var m = Machine(available: 8L << 30) with { CgroupLimitBytes = 1L << 30, CgroupUsageBytes = 256L << 20 };
        Assert.Equal(768L << 20, m.UsableMemoryBytes);
    }

    [Fact]
    public void With_room_the_recommendation_is_no_budget_f16_and_the_longest_context()
    {
        var roomy = Recommendation.Make(_shape, Machine(), new PlanSettings(), Calibration);
        Assert.Null(roomy.MemoryBudget);
        Assert.Equal(new KvCacheTypes(KvElementType.F16, KvElementType.F16), roomy.CacheTypes);
        Assert.Equal(2048, roomy.Context); // the model's whole context fits in 8 GiB
        Assert.NotNull(roomy.Plan);
    }

    [Fact]
    public void Without_room_for_the_weights_the_recommendation_is_the_smallest_kv_and_a_budget()
    {
        // At a 256 context with kivi2 the KV (256 x 156 + 24576 = 64512), the scratch for 128 tokens (311296 + 1024)
        // and the runtime (51 MiB) leave exactly 100000 bytes of the usable memory (90% of what is available); every
        // KV type with all 165376 bytes of weights (in RAM) exceeds it.
        long usable = 64512 + 312320 + (51L << 20) + 100000;
        var tight = Machine(available: 59949121); // x 0.9 = usable
        Assert.Equal(usable, (long)(tight.UsableMemoryBytes * (1 - Recommendation.Headroom)));
        var r = Recommendation.Make(_shape, tight, new PlanSettings { ContextLength = 256 }, Calibration);
        Assert.Equal(100000, r.MemoryBudget);
        Assert.Equal(new KvCacheTypes(KvElementType.Kivi2, KvElementType.Kivi2), r.CacheTypes);
        Assert.Equal(256, r.Context);
        Assert.True(r.Plan!.Residency.IsStreaming);
        Assert.True(r.Plan.Memory.PeakBytes <= usable);
    }

    [Fact]
    public void A_budget_too_small_for_the_buffers_names_the_smallest()
    {
        var e = Assert.Throws<ArgumentException>(() => Plan(new PlanSettings { MemoryBudget = 40000 }));
        Assert.Contains("too small", e.Message);
    }

    [Fact]
    public void Memory_limits_parse_meminfo()
    {
        string text = "MemTotal:       24683548 kB\nMemFree:         1000 kB\nMemAvailable:   11356668 kB\n";
        Assert.Equal(11356668L * 1024, MemoryLimits.ParseMemInfo(text, "MemAvailable"));
        Assert.Null(MemoryLimits.ParseMemInfo(text, "SwapTotal"));
    }
}
