using System.Text.Json;
using Frugal.Tests.Architecture;
using Frugal.Tokenization.ChatTemplates;

namespace Frugal.Tests.ChatTemplates;

/// <summary>
/// Our interpreter against renderings made by an independent implementation: Fixtures/chat/goldens.json comes
/// from @huggingface/jinja (generate-goldens.mjs) and agrees with Python jinja2 under transformers' settings
/// (check-goldens-with-jinja2.py). Every case must match byte for byte, including the template's own errors.
/// </summary>
public class ChatTemplateGoldenTests
{
    private static readonly string FixtureDir = Path.Combine(LayerDirectionTests.RepoRoot(), "tests", "Frugal.Tests", "Fixtures", "chat");

    private static readonly Lazy<JsonDocument> Goldens = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "goldens.json"))));

    public static IEnumerable<object[]> Cases() =>
        Goldens.Value.RootElement.GetProperty("goldens").EnumerateArray().Select((g, i) => new object[]
        {
            g.GetProperty("template").GetString()!, g.GetProperty("case").GetString()!, g.GetProperty("add_generation_prompt").GetBoolean(), i,
        });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rendering_matches_the_reference_implementation(string templateName, string caseName, bool addGenerationPrompt, int index)
    {
        var root = Goldens.Value.RootElement;
        var golden = root.GetProperty("goldens")[index];
        var info = root.GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == templateName);
        var template = new ChatTemplate(
            File.ReadAllText(Path.Combine(FixtureDir, "templates", info.GetProperty("file").GetString()!)),
            info.GetProperty("bos_token").GetString(),
            info.GetProperty("eos_token").GetString());
        var messages = root.GetProperty("conversations").GetProperty(caseName).GetProperty("messages").EnumerateArray().Select(ToMessage).ToList();
        var variables = golden.GetProperty("variables").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());

        if (golden.TryGetProperty("error", out var error))
        {
            var e = Assert.Throws<ChatTemplateRaisedException>(() => template.Render(messages, addGenerationPrompt, variables));
            Assert.Equal(error.GetString(), e.TemplateMessage);
        }
        else
        {
            string expected = golden.GetProperty("expected").GetString()!;
            Assert.Equal(expected, template.Render(messages, addGenerationPrompt, variables));
        }
    }

    [Fact]
    public void Goldens_cover_every_target_family_and_both_generation_prompt_settings()
    {
        var goldens = Goldens.Value.RootElement.GetProperty("goldens").EnumerateArray().ToList();
        var families = goldens.Select(g => g.GetProperty("template").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "llama3", "llama3_1", "llama3_2", "qwen2_5", "qwen3", "mistral_v0_1", "mistral_nemo", "phi3_5", "gemma3",
            "gemma2", "phi3_mini", "phi4_mini", "smollm2", "smollm3" }, families);
        Assert.Contains(goldens, g => g.GetProperty("add_generation_prompt").GetBoolean());
        Assert.Contains(goldens, g => !g.GetProperty("add_generation_prompt").GetBoolean());
        Assert.True(goldens.Count(g => g.TryGetProperty("expected", out _)) > 200);
    }

    private static ChatMessage ToMessage(JsonElement m)
    {
        var extra = new Dictionary<string, object?>();
        string? reasoning = null;
        foreach (var p in m.EnumerateObject())
        {
            if (p.Name is "role" or "content") continue;
            if (p.Name == "reasoning_content") reasoning = p.Value.GetString();
            else extra[p.Name] = p.Value.Clone();
        }
        return new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString())
        {
            ReasoningContent = reasoning,
            Extra = extra.Count > 0 ? extra : null,
        };
    }
}
