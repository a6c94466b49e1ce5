using Frugal.Hub;

namespace Frugal.Tests.Hub;

public sealed class ModelReferenceTests
{
    private static ModelReference Parse(string text, params string[] existing) => ModelReference.Parse(text, existing.Contains);

    [Fact]
    public void Owner_repo_names_the_repository_preferred_file()
    {
        var r = Parse("Qwen/Qwen2.5-0.5B-Instruct-GGUF");
        Assert.Equal(("Qwen/Qwen2.5-0.5B-Instruct-GGUF", null, null, null), (r.Repo, r.Quant, r.File, r.LocalPath));
        Assert.False(r.IsLocal);
        Assert.Equal("Qwen/Qwen2.5-0.5B-Instruct-GGUF", r.ToString());
    }

    [Fact]
    public void Colon_names_a_quant_as_llama_cpp_hf_and_ollama_do()
    {
        var r = Parse("bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M");
        Assert.Equal(("bartowski/Llama-3.2-1B-Instruct-GGUF", "Q4_K_M", null), (r.Repo, r.Quant, r.File));
        Assert.Equal("bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", r.ToString());
        var ollama = Parse("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:iq4_xs");
        Assert.Equal(("bartowski/Llama-3.2-1B-Instruct-GGUF", "iq4_xs"), (ollama.Repo, ollama.Quant));
        var url = Parse("https://huggingface.co/owner/repo:Q8_0");
        Assert.Equal(("owner/repo", "Q8_0"), (url.Repo, url.Quant));
    }

    [Fact]
    public void A_third_part_names_a_file_in_the_repository_sub_folders_included()
    {
        var r = Parse("unsloth/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf");
        Assert.Equal(("unsloth/Qwen3-8B-GGUF", null, "Qwen3-8B-Q4_K_M.gguf"), (r.Repo, r.Quant, r.File));
        var nested = Parse("owner/repo/BF16/model-BF16.gguf");
        Assert.Equal(("owner/repo", "BF16/model-BF16.gguf"), (nested.Repo, nested.File));
        Assert.Equal("owner/repo/BF16/model-BF16.gguf", nested.ToString());
    }

    [Theory]
    [InlineData("/models/m.gguf")]
    [InlineData("./m.gguf")]
    [InlineData("../models/owner/repo")]
    [InlineData("~/m.gguf")]
    [InlineData("m.gguf")]
    [InlineData("models/m.gguf")]
    [InlineData(@"C:\models\m.gguf")]
    [InlineData("frugal-main")]
    public void Paths_stay_paths(string text)
    {
        var r = Parse(text);
        Assert.Equal((text, null), (r.LocalPath, r.Repo));
        Assert.True(r.IsLocal);
    }

    [Fact]
    public void An_existing_file_wins_over_a_reference_that_looks_the_same()
    {
        Assert.Equal("owner/repo", Parse("owner/repo", "owner/repo").LocalPath);
        Assert.Equal("owner/repo:Q4_K_M", Parse("owner/repo:Q4_K_M", "owner/repo:Q4_K_M").LocalPath);
        Assert.Null(Parse("owner/repo", "other").LocalPath);
    }

    [Theory]
    [InlineData("owner/repo:", "'' is not a quant name")]
    [InlineData("owner/repo:Q4 K", "'Q4 K' is not a quant name")]
    [InlineData("owner/repo:Q4_K_M/file.gguf", "a quant (':QUANT') goes after owner/repo")]
    [InlineData("owner//file.gguf", "the repository name is empty")]
    [InlineData("own er/repo", "'own er' is not a valid owner")]
    [InlineData("owner/re..po", "'re..po' is not a valid repository name")]
    [InlineData("owner/repo/README.md", "'README.md' is not a .gguf file")]
    [InlineData("owner/repo/../x.gguf", "an empty, '.' or '..' part")]
    [InlineData("owner/repo/a//x.gguf", "an empty, '.' or '..' part")]
    public void Malformed_references_are_refused_with_the_reason(string text, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => Parse(text));
        Assert.Contains($"'{text}' is not a model reference", e.Message);
        Assert.Contains(why, e.Message);
        Assert.Contains("owner/repo:QUANT", e.Message);
    }

    [Fact]
    public void An_empty_reference_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Parse(" "));
        Assert.StartsWith("the model reference is empty", e.Message);
    }
}
