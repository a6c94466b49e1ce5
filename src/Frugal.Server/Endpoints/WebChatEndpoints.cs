using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Frugal.Server;

/// <summary>
/// GET / and /webchat/*: the chat page, its script and style sheet, embedded in this assembly (WebChat/*) so the
/// server needs no files beside it and the page no CDN. The page and its assets are public; the API it calls keeps
/// its key check.
/// </summary>
public static class WebChatEndpoints
{
    private const string ResourcePrefix = "webchat/";

    /// <summary>Everything the page loads comes from this server; no inline script, nothing from elsewhere.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    /// <summary>
    /// Maps the chat page at / and its assets at /webchat/*. <c>frugal serve</c> maps it beside
    /// <see cref="FrugalEndpoints.MapFrugal(IEndpointRouteBuilder, ServerOptions)"/>; a host app that wants the page
    /// calls it too (it is apart so a host keeps its own /).
    /// </summary>
    public static IEndpointRouteBuilder MapFrugalWebChat(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (HttpContext c) => Serve(c, "index.html"));
        endpoints.MapGet("/webchat/{name}", (HttpContext c, string name) => Serve(c, name));
        return endpoints;
    }

    private static IResult Serve(HttpContext context, string name)
    {
        if (!Assets.TryGetValue(name, out var asset))
            return Results.Json(new { error = new { message = $"no web chat asset named '{name}'", type = "not_found_error" } }, ServerJson.Options, statusCode: 404);
        var headers = context.Response.Headers;
        headers.ETag = asset.ETag;
        // Revalidate each load: a new server build must never run with yesterday's script.
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(WebChatEndpoints).Assembly;
        var types = new FileExtensionContentTypeProvider();
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            string name = resource[ResourcePrefix.Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            byte[] bytes = copy.ToArray();
            if (!types.TryGetContentType(name, out var type))
                throw new InvalidOperationException($"the web chat asset '{name}' has no known content type");
            if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal)) type += "; charset=utf-8";
            string etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"";
            assets[name] = new Asset(bytes, type, etag);
        }
        if (!assets.ContainsKey("index.html")) throw new InvalidOperationException("the web chat page (WebChat/index.html) is not embedded in Frugal.Server");
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
