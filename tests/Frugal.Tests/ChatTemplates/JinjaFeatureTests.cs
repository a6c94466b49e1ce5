using System.Text.Json;
using Frugal.Tests.Architecture;
using Frugal.Tokenization.ChatTemplates;

namespace Frugal.Tests.ChatTemplates;

/// <summary>
/// Jinja constructs one at a time (loops, scoping, filters, tests, operators, whitespace control, macros), with
/// expected renderings from Python jinja2 under transformers' settings (Fixtures/chat/feature-goldens.json, made by
/// check-goldens-with-jinja2.py).
/// </summary>
public class JinjaFeatureTests
{
    private static readonly Lazy<JsonDocument> Features = new(() => JsonDocument.Parse(File.ReadAllText(
        Path.Combine(LayerDirectionTests.RepoRoot(), "tests", "Frugal.Tests", "Fixtures", "chat", "feature-goldens.json"))));

    public static IEnumerable<object[]> Names() =>
        Features.Value.RootElement.GetProperty("features").EnumerateArray().Select(f => new object[] { f.GetProperty("name").GetString()! });

    [Theory]
    [MemberData(nameof(Names))]
    public void Feature_renders_like_jinja2(string name)
    {
        var root = Features.Value.RootElement;
        var feature = root.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("name").GetString() == name);
        var context = root.GetProperty("context").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        var template = new ChatTemplate(feature.GetProperty("source").GetString()!);
        var messages = context["messages"] is JsonElement m
            ? m.EnumerateArray().Select(x => new ChatMessage(x.GetProperty("role").GetString()!, x.GetProperty("content").GetString())).ToList()
            : [];
        context.Remove("messages");

        if (feature.TryGetProperty("error", out var error))
        {
            var e = Assert.Throws<ChatTemplateRaisedException>(() => template.Render(messages, variables: context));
            Assert.Equal(error.GetString(), e.TemplateMessage);
        }
        else
            Assert.Equal(feature.GetProperty("expected").GetString(), template.Render(messages, variables: context));
    }
}
