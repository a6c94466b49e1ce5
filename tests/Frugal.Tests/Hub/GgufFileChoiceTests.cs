using Frugal.Hub;

namespace Frugal.Tests.Hub;

public sealed class GgufFileChoiceTests
{
    private static HubFile F(string path, long size = 100) => new(path, size);

    [Fact]
    public void A_bare_repository_prefers_Q4_K_M_and_never_a_vision_projector()
    {
        var files = new[] { F("README.md"), F("m-Q2_K.gguf", 10), F("m-Q8_0.gguf", 80), F("m-Q4_K_M.gguf", 40), F("mmproj-m-Q4_K_M.gguf", 5) };
        Assert.Equal("m-Q4_K_M.gguf", GgufFileChoice.Choose("o/r", files, null).Path);
    }

    [Fact]
    public void Without_Q4_K_M_the_next_preference_then_the_only_then_the_smallest_file()
    {
        Assert.Equal("m.Q4_0.gguf", GgufFileChoice.Choose("o/r", [F("m.Q4_0.gguf", 50), F("m.Q8_0.gguf", 90), F("m.Q2_K.gguf", 30)], null).Path);
        Assert.Equal("m-q8_0.gguf", GgufFileChoice.Choose("o/r", [F("m-f16.gguf", 160), F("m-q8_0.gguf", 90)], null).Path);
        Assert.Equal("model.gguf", GgufFileChoice.Choose("o/r", [F("model.gguf", 999)], null).Path);
        Assert.Equal("m-IQ3_M.gguf", GgufFileChoice.Choose("o/r", [F("m-f16.gguf", 160), F("m-IQ3_M.gguf", 31), F("m-Q6_K.gguf", 66)], null).Path);
    }

    [Fact]
    public void A_quant_matches_as_a_whole_token_ignoring_case()
    {
        Assert.True(GgufFileChoice.MatchesQuant("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "q4_k_m"));
        Assert.True(GgufFileChoice.MatchesQuant("sub/llama.Q4_K.gguf", "Q4_K"));
        Assert.False(GgufFileChoice.MatchesQuant("llama-Q4_K_M.gguf", "Q4_K"));
        Assert.False(GgufFileChoice.MatchesQuant("llama-IQ4_XS.gguf", "Q4_XS"));
        Assert.False(GgufFileChoice.MatchesQuant("llama-Q4_0_4_4.gguf", "Q4_0"));
        var files = new[] { F("m-Q4_K_S.gguf"), F("m-Q4_K_M.gguf"), F("m-Q4_K.gguf") };
        Assert.Equal("m-Q4_K.gguf", GgufFileChoice.Choose("o/r", files, "q4_k").Path);
    }

    [Fact]
    public void No_match_lists_what_the_repository_has()
    {
        var e = Assert.Throws<HubException>(() => GgufFileChoice.Choose("o/r", [F("m-Q8_0.gguf"), F("m-f16.gguf")], "Q4_K_M"));
        Assert.Equal("o/r has no GGUF file for quant 'Q4_K_M' (it has m-Q8_0.gguf, m-f16.gguf)", e.Message);
        var none = Assert.Throws<HubException>(() => GgufFileChoice.Choose("o/r", [F("config.json"), F("model.safetensors")], null));
        Assert.Equal("o/r has no GGUF model file (it holds config.json, model.safetensors)", none.Message);
    }

    [Fact]
    public void Two_files_of_one_quant_ask_for_the_file_by_name()
    {
        var e = Assert.Throws<HubException>(() => GgufFileChoice.Choose("o/r", [F("a/m-Q8_0.gguf"), F("b/m-Q8_0.gguf")], "Q8_0"));
        Assert.Equal("o/r has 2 Q8_0 files (a/m-Q8_0.gguf, b/m-Q8_0.gguf): name one as o/r/FILE", e.Message);
    }

    [Fact]
    public void Split_files_are_refused_by_name()
    {
        var files = new[] { F("m-Q8_0-00001-of-00002.gguf"), F("m-Q8_0-00002-of-00002.gguf") };
        var e = Assert.Throws<HubException>(() => GgufFileChoice.Choose("o/r", files, "Q8_0"));
        Assert.Equal("o/r's Q8_0 model is split into 2 files (m-Q8_0-00001-of-00002.gguf, m-Q8_0-00002-of-00002.gguf); frugal reads single-file GGUFs only", e.Message);
        // A whole file beats a split one for a bare repository.
        Assert.Equal("m-Q2_K.gguf", GgufFileChoice.Choose("o/r", [.. files, F("m-Q2_K.gguf", 1000)], null).Path);
    }
}
