using System.Net;
using System.Text.RegularExpressions;

namespace Frugal.Tests.Server.WebChat;

/// <summary>The page and its assets over plain HTTP: embedded, typed, self-contained, cacheable by ETag.</summary>
public class WebChatAssetTests
{
    [Theory]
    [InlineData("", "text/html; charset=utf-8")]
    [InlineData("webchat/chat.js", "text/javascript; charset=utf-8")]
    [InlineData("webchat/chat.css", "text/css; charset=utf-8")]
    public async Task Page_and_assets_are_served_with_their_content_type_and_a_self_only_policy(string path, string contentType)
    {
        await using var h = await ServerHarness.StartAsync(waitForModel: false);
        using var response = await h.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType!.ToString());
        Assert.StartsWith("default-src 'self';", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(text.Length > 500, $"{path} holds only {text.Length} characters");
        // Nothing is fetched from elsewhere: no absolute URLs, no web fonts.
        Assert.DoesNotMatch(new Regex(@"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", RegexOptions.IgnoreCase), text);
        Assert.DoesNotContain("@import", text);
        Assert.DoesNotContain("@font-face", text);
    }

    [Fact]
    public async Task Page_loads_its_script_and_style_from_the_server_and_writes_no_model_text_as_html()
    {
        await using var h = await ServerHarness.StartAsync(waitForModel: false);
        string html = await h.Http.GetStringAsync("");
        Assert.Contains("<script src=\"/webchat/chat.js\" defer></script>", html);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/webchat/chat.css\">", html);
        string script = await h.Http.GetStringAsync("webchat/chat.js");
        Assert.DoesNotContain("innerHTML", script);
        Assert.DoesNotContain("insertAdjacentHTML", script);
        Assert.DoesNotContain("document.write", script);
    }

    [Fact]
    public async Task Unchanged_asset_answers_304_to_its_etag()
    {
        await using var h = await ServerHarness.StartAsync(waitForModel: false);
        using var first = await h.Http.GetAsync("webchat/chat.css");
        var etag = first.Headers.ETag!;
        using var request = new HttpRequestMessage(HttpMethod.Get, "webchat/chat.css");
        request.Headers.IfNoneMatch.Add(etag);
        using var again = await h.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Unknown_asset_is_a_404_naming_it()
    {
        await using var h = await ServerHarness.StartAsync(waitForModel: false);
        var (status, body) = await h.GetJsonAsync("webchat/missing.js");
        Assert.Equal(404, status);
        Assert.Equal("no web chat asset named 'missing.js'", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Page_needs_no_key_while_the_api_does()
    {
        await using var h = await ServerHarness.StartAsync(o => o with { ApiKey = "k" }, waitForModel: false);
        h.Http.DefaultRequestHeaders.Authorization = null;
        Assert.Equal(HttpStatusCode.OK, (await h.Http.GetAsync("")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await h.Http.GetAsync("webchat/chat.css")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await h.Http.GetAsync("v1/models")).StatusCode);
    }
}
