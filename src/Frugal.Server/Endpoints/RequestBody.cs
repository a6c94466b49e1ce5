using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Frugal.Server.Endpoints;

/// <summary>Reads a JSON body into a request DTO, turning every client mistake into an <see cref="ApiError"/>.</summary>
internal static class RequestBody
{
    public static async Task<T> ReadAsync<T>(HttpContext context, long maxBytes) where T : class
    {
        if (context.Request.ContentLength > maxBytes)
            throw TooLarge(maxBytes);
        T? value;
        try
        {
            value = await JsonSerializer.DeserializeAsync<T>(context.Request.Body, ServerJson.Options, context.RequestAborted);
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } path ? $" at {path}" : "";
            throw ApiError.BadRequest($"the request body is not valid JSON for this endpoint{where}: {e.Message}", e.Path?.TrimStart('$', '.'));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(maxBytes);
        }
        return value ?? throw ApiError.BadRequest("the request body must be a JSON object");
    }

    private static ApiError TooLarge(long maxBytes) => new(413, $"the request body is larger than the limit of {maxBytes} bytes", code: "request_too_large");
}
