using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics.Attention;
using Frugal.Tests.Server;

namespace Frugal.Tests.Engine;

/// <summary>The engine's KV pool in the element types <see cref="EngineOptions.KvCacheTypes"/> asks for.</summary>
public class EngineKvCacheTypeTests
{
    // The tiny llama: 2 layers, 2 KV heads of 32. Bytes of one head row: f16 64, q8_0 34, q4_0 18 (one block of 32).
    private const long Layers = 2, KvHeads = 2;

    [Theory]
    [InlineData(KvElementType.F16, KvElementType.F16, 64, 64)]
    [InlineData(KvElementType.Q8_0, KvElementType.Q8_0, 34, 34)]
    [InlineData(KvElementType.Q4_0, KvElementType.Q4_0, 18, 18)]
    [InlineData(KvElementType.Q8_0, KvElementType.F16, 34, 64)]
    public async Task The_pool_is_allocated_in_the_chosen_types_and_generates(KvElementType k, KvElementType v, int kRow, int vRow)
    {
        var types = new KvCacheTypes(k, v);
        using var engine = ServingModels.TinyEngine(new EngineOptions { KvBlocks = 10, BlockSize = 16, ContextLength = 128, KvCacheTypes = types });
        Assert.Equal(types, engine.KvCacheTypes);
        Assert.Equal(Layers * KvHeads * (kRow + vRow), engine.KvBytesPerToken);
        Assert.Equal(10 * 16 * Layers * KvHeads * (kRow + vRow), engine.KvBytes);

        var prompt = engine.Tokenizer.Encode("once upon a time in a land far away");
        var result = await engine.Submit(new EngineRequest { PromptTokens = prompt, MaxTokens = 8, Sampling = SamplingOptions.Greedy }).CompleteAsync();
        Assert.InRange(result.Tokens.Count, 1, 8);
    }

    [Fact]
    public async Task A_kivi_pool_takes_blocks_of_32_counts_its_residual_apart_and_within_one_block_generates_as_f16()
    {
        var types = new KvCacheTypes(KvElementType.Kivi2, KvElementType.Kivi2);
        using var engine = ServingModels.TinyEngine(new EngineOptions { KvBlocks = 10, ContextLength = 128, KvCacheTypes = types, MaxRunningSequences = 3 });
        Assert.Equal(32, engine.Options.BlockSize);   // KIVI's default: keys are coded per channel over a block
        // Per KV head of 32: keys 32·2/8 codes + 4·32/32 scale and minimum + 2 (16 exact entries of 4 bytes per block of
        // 32), values 8 + 4 (f16: 64 each).
        Assert.Equal(Layers * KvHeads * (14 + 12), engine.KvBytesPerToken);
        // The f16 residual: one block slot per running sequence, K and V, every layer.
        Assert.Equal(10 * 32 * Layers * KvHeads * 26 + Layers * 3 * KvHeads * 32 * 32 * 2 * 2, engine.KvBytes);

        using var f16 = ServingModels.TinyEngine(new EngineOptions { KvBlocks = 10, BlockSize = 32, ContextLength = 128 });
        var prompt = engine.Tokenizer.Encode("once upon a time");
        Assert.True(prompt.Length + 8 <= 32, $"{prompt.Length} prompt tokens: the test wants one block");
        var request = new EngineRequest { PromptTokens = prompt, MaxTokens = 8, Sampling = SamplingOptions.Greedy };
        var kivi = await engine.Submit(request).CompleteAsync();
        var exact = await f16.Submit(request).CompleteAsync();
        Assert.Equal(exact.Tokens, kivi.Tokens);   // a block being filled stays f16

        var longer = engine.Tokenizer.Encode(string.Join(" ", Enumerable.Repeat("the cat sat on the mat and looked at the dog", 4)));
        var result = await engine.Submit(new EngineRequest { PromptTokens = longer, MaxTokens = 10, Sampling = SamplingOptions.Greedy }).CompleteAsync();
        Assert.True(longer.Length > 64, $"{longer.Length} prompt tokens: the test wants coded blocks");
        Assert.InRange(result.Tokens.Count, 1, 10);
    }

    [Fact]
    public void A_kivi_pool_refuses_a_block_size_other_than_32_64_or_128()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ServingModels.TinyEngine(new EngineOptions
        {
            KvBlocks = 10, BlockSize = 16, KvCacheTypes = new(KvElementType.Q8_0, KvElementType.Kivi4),
        }));
        Assert.StartsWith("KV cache type kivi4 quantizes keys per channel over a whole block", e.Message);
        Assert.Contains("must be one of 32, 64, 128 (got 16; 32 is the default)", e.Message);
    }

    [Fact]
    public void A_block_type_is_refused_for_a_head_size_that_is_not_a_multiple_of_32()
    {
        string path = Path.Combine(Path.GetTempPath(), $"frugal-kv-qwen3-{Environment.ProcessId}.gguf");
        SyntheticModelWriter.Write(SyntheticModelSpec.Tiny(SyntheticFamily.Qwen3) with { ContextLength = 64 }, path);
        try
        {
            using var model = ModelLoader.Load(path);
            using var file = Frugal.Gguf.GgufFile.Open(path);
            var tokenizer = Frugal.Tokenization.Tokenizer.FromGguf(file);
            var e = Assert.Throws<NotSupportedException>(() =>
                new InferenceEngine(model, tokenizer, new EngineOptions { KvCacheTypes = new(KvElementType.F16, KvElementType.Q4_0) }));
            Assert.Equal("KV cache type q4_0 stores blocks of 32 elements per head; this model's head size is 48. Use f16.", e.Message);
            using var f32 = new InferenceEngine(model, tokenizer, new EngineOptions { KvCacheTypes = new(KvElementType.F32, KvElementType.F32), KvBlocks = 4 });
            Assert.Equal(4 * 16 * 2L * 2 * 48 * 4 * 2, f32.KvBytes); // 2 layers, 2 KV heads of 48, 4 bytes, K and V
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task The_server_passes_its_kv_types_to_the_engine()
    {
        var types = new KvCacheTypes(KvElementType.Q8_0, KvElementType.Q8_0);
        await using var h = await ServerHarness.StartAsync(o => o with { Parallel = 2, KvBlocks = 12, ContextLength = 96, KvCacheTypes = types });
        var engine = h.Server.State.Model!.Engine;
        Assert.Equal(types, engine.KvCacheTypes);
        Assert.Equal(12 * 16 * Layers * KvHeads * 34 * 2, engine.KvBytes); // 17/32 of the f16 budget of the same blocks
        var (status, _) = await h.PostAsync("v1/completions", """{"prompt":"hello","max_tokens":4,"temperature":0}""");
        Assert.Equal(200, status);
    }
}
