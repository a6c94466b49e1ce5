using System.Text.Json;
using Frugal.Gguf;
using Frugal.Tests.Architecture;
using Frugal.Tokenization.ChatTemplates;

namespace Frugal.Tests.ChatTemplates;

public class ChatTemplateBehaviourTests
{
    private static readonly string FixtureDir = Path.Combine(LayerDirectionTests.RepoRoot(), "tests", "Frugal.Tests", "Fixtures", "chat");

    [Fact]
    public void Unsupported_statements_are_named_with_their_position_when_parsing()
    {
        var e = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("Hello {% include 'x.jinja' %}"));
        Assert.Contains("unsupported construct '{% include %}'", e.Message);
        Assert.Equal((1, 10), (e.Line, e.Column));

        var raw = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("a\n{% raw %}{{ x }}{% endraw %}"));
        Assert.Contains("'{% raw %}'", raw.Message);
        Assert.Equal(2, raw.Line);
    }

    [Fact]
    public void Malformed_templates_fail_with_what_was_expected()
    {
        var unclosed = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("{% if x %}abc"));
        Assert.Contains("missing '{% endif %}'", unclosed.Message);
        var stray = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("abc{% endfor %}"));
        Assert.Contains("endfor", stray.Message);
        var tag = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("{{ 'a' "));
        Assert.Contains("never closed", tag.Message);
        var str = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("{{ 'abc }}"));
        Assert.Contains("string literal is never closed", str.Message);
    }

    [Fact]
    public void Unsupported_filters_and_functions_are_named_with_their_position_when_rendering()
    {
        var filter = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("{{ 'a' | shout }}").Render([]));
        Assert.Contains("filter 'shout'", filter.Message);
        Assert.Equal((1, 8), (filter.Line, filter.Column));

        var call = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("line1\n  {{ frobnicate(1) }}").Render([]));
        Assert.Contains("'frobnicate' is not a known function", call.Message);
        Assert.Equal(2, call.Line);

        var add = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("{{ 'n=' + 1 }}").Render([]));
        Assert.Contains("cannot add string and integer", add.Message);
    }

    [Fact]
    public void Raise_exception_reports_the_templates_own_message()
    {
        var t = new ChatTemplate("{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('no tools here') }}{% endif %}{% endfor %}");
        var e = Assert.Throws<ChatTemplateRaisedException>(() => t.Render([ChatMessage.User("hi"), new ChatMessage("tool", "{}")]));
        Assert.Equal("no tools here", e.TemplateMessage);
        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void Llama_3_2_prints_todays_date_from_the_clock()
    {
        var goldens = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "goldens.json"))).RootElement;
        var golden = goldens.GetProperty("goldens").EnumerateArray()
            .Single(g => g.GetProperty("template").GetString() == "llama3_2" && g.GetProperty("case").GetString() == "user_only" && g.GetProperty("add_generation_prompt").GetBoolean());
        var template = new ChatTemplate(File.ReadAllText(Path.Combine(FixtureDir, "templates", "meta-llama-Llama-3.2-3B-Instruct.jinja")), "<|begin_of_text|>", "<|eot_id|>")
        {
            Clock = () => new DateTimeOffset(2025, 3, 5, 12, 0, 0, TimeSpan.Zero),
        };
        string expected = golden.GetProperty("expected").GetString()!.Replace("Today Date: 26 Jul 2024", "Today Date: 05 Mar 2025", StringComparison.Ordinal);
        Assert.Equal(expected, template.Render([ChatMessage.User("Hello!")]));
    }

    [Fact]
    public void The_template_and_its_special_tokens_come_from_the_gguf_metadata()
    {
        string source = File.ReadAllText(Path.Combine(FixtureDir, "templates", "llama3_1.jinja"));
        var bytes = new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("tokenizer.chat_template", source)
            .Add("tokenizer.ggml.tokens", ["<|begin_of_text|>", "<|eot_id|>", "a"])
            .Add("tokenizer.ggml.bos_token_id", 0u)
            .Add("tokenizer.ggml.eos_token_id", 1u)
            .ToArray();
        using var file = GgufFile.FromBytes(bytes, "chat.gguf");
        var template = ChatTemplate.FromGguf(file);
        Assert.NotNull(template);
        Assert.Equal("<|begin_of_text|>", template.BosToken);
        Assert.Equal("<|eot_id|>", template.EosToken);
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            template.Render([ChatMessage.User("  Hi  ")]));

        using var none = GgufFile.FromBytes(new GgufWriter().Add("general.architecture", "llama").ToArray(), "plain.gguf");
        Assert.Null(ChatTemplate.FromGguf(none));
    }

    [Fact]
    public void Hostile_templates_fail_cleanly_instead_of_hanging_or_crashing()
    {
        var loops = Assert.Throws<ChatTemplateException>(() =>
            new ChatTemplate("{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}").Render([]));
        Assert.Contains("loops too long", loops.Message);
        var recursion = Assert.Throws<ChatTemplateException>(() =>
            new ChatTemplate("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").Render([]));
        Assert.Contains("nests deeper than 100", recursion.Message);
        var huge = Assert.Throws<ChatTemplateException>(() => new ChatTemplate("{{ 'ab' * 100000000 }}").Render([]));
        Assert.Contains("string repetition", huge.Message);
    }

    [Fact]
    public void Rendering_is_repeatable_and_independent_between_calls()
    {
        var t = new ChatTemplate("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}");
        Assert.Equal("2", t.Render([ChatMessage.User("a"), ChatMessage.Assistant("b")]));
        Assert.Equal("1", t.Render([ChatMessage.User("a")]));
        var results = Enumerable.Range(1, 8).AsParallel().Select(n => t.Render(Enumerable.Repeat(ChatMessage.User("x"), n).ToList())).ToList();
        Assert.Equal(Enumerable.Range(1, 8).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), results);
    }
}
