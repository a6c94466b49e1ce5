using Frugal.Inference.Sampling;
using Frugal.Tests.Oracle;
using LLama.Native;

namespace Frugal.Tests.Inference;

/// <summary>
/// The chain up to temperature against llama.cpp's own samplers (through LLamaSharp): same logits, same history,
/// same settings must leave the same candidates with the same logits. Only the final random draw differs (llama.cpp
/// uses std::mt19937), so it is not compared here.
/// </summary>
public class SamplerOracleTests
{
    public static TheoryData<int, float, int, float, float, float, float, float, int> Chains => new()
    {
        // seed, temp, top_k, top_p, min_p, repeat, freq, presence, last_n
        { 1, 0.8f, 40, 0.95f, 0.05f, 1.0f, 0f, 0f, 64 },     // llama.cpp defaults
        { 2, 1.0f, 0, 0.9f, 0f, 1.3f, 0f, 0f, 64 },          // no top-k: top-p over the whole vocabulary
        { 3, 0.7f, 100, 1.0f, 0.1f, 1.1f, 0.2f, 0.5f, 32 },  // all penalties, min-p after top-k
        { 4, 1.5f, 0, 1.0f, 0.02f, 0.8f, -0.1f, 0f, 16 },    // repeat < 1 boosts; negative frequency
        { 5, 0.5f, 7, 0.5f, 0f, 2.0f, 0f, 1f, 200 },         // window longer than the history
        { 6, 1.0f, 0, 1.0f, 0f, 1.4f, 0.3f, 0.2f, 50 },      // no filter: penalties seen on every logit, negative ones too
        { 7, 2.0f, 0, 1.0f, 0f, 1.0f, 0f, 0f, 64 },          // temperature alone
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void Candidates_after_the_chain_match_llama_cpp(int seed, float temp, int topK, float topP, float minP,
        float repeat, float frequency, float presence, int lastN)
    {
        const int vocab = 300;
        var rng = new SamplerRandom((ulong)seed);
        var logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = (float)(rng.NextDouble() * 12 - 6);
        var history = new int[120];
        for (int i = 0; i < history.Length; i++) history[i] = (int)(rng.NextUInt64() % 40); // many repeats

        var ours = new Sampler(new SamplingOptions
        {
            Temperature = temp, TopK = topK, TopP = topP, MinP = minP, RepeatPenalty = repeat,
            FrequencyPenalty = frequency, PresencePenalty = presence, PenaltyLastN = lastN, Seed = 1,
        }, vocab);
        foreach (int t in history) ours.Accept(t);
        int n = ours.Filter(logits);
        var mine = new Dictionary<int, float>();
        for (int i = 0; i < n; i++) mine[ours.CandidateIds[i]] = ours.CandidateLogits[i];

        var theirs = LlamaCppCandidates(logits, history, temp, topK, topP, minP, repeat, frequency, presence, lastN);

        Assert.True(mine.Count > 1, "the case should leave a choice");
        Assert.Equal(theirs.Keys.Order(), mine.Keys.Order());
        foreach (var (id, logit) in theirs)
            Assert.Equal(logit, mine[id], 1e-5f);
    }

    private static Dictionary<int, float> LlamaCppCandidates(float[] logits, int[] history, float temp, int topK, float topP,
        float minP, float repeat, float frequency, float presence, int lastN)
    {
        LlamaCppRuntime.EnsureLoaded();
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddPenalties(lastN, repeat, frequency, presence);
        chain.AddTopK(topK);
        chain.AddTopP(topP, 1);
        chain.AddMinP(minP, 1);
        chain.AddTemperature(temp);
        foreach (int t in history) chain.Accept(t);

        var array = LLamaTokenDataArray.Create(logits);
        using var pin = LLamaTokenDataArrayNative.Create(array, out var native);
        chain.Apply(ref native);
        var result = new Dictionary<int, float>();
        foreach (var d in native.Data) result[(int)d.ID] = d.Logit;
        return result;
    }
}
