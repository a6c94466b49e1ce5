using Frugal.Server.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Frugal.Server;

/// <summary>
/// <c>app.MapFrugal(...)</c>: the OpenAI-compatible endpoints (/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models) and
/// /health, /metrics, in any ASP.NET Core app. <c>frugal serve</c> (<see cref="FrugalServer"/>) maps them through the
/// same method, so the CLI's server and a host app's are one code path.
/// </summary>
public static class FrugalEndpoints
{
    /// <summary>Log category of the request lines and model loading.</summary>
    public const string LogCategory = "Frugal.Server";

    /// <summary>
    /// Loads the model in <paramref name="options"/> in the background (/health answers 503 and /v1 requests 503
    /// until it is ready) and maps the endpoints; the model is released when the app stops. Host, Port and the body
    /// limit's Kestrel side are the host app's own; <see cref="ServerOptions.MaxBodyBytes"/> is still enforced per request.
    /// </summary>
    public static ServerState MapFrugal(this IEndpointRouteBuilder endpoints, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var state = new ServerState(options, Loggers(endpoints).CreateLogger(LogCategory));
        endpoints.MapFrugal(state);
        state.StartLoading(Loggers(endpoints));
        // The engine's thread and the mapped weights go with the app.
        endpoints.ServiceProvider.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(state.Dispose);
        return state;
    }

    /// <summary>Maps the endpoints over <paramref name="state"/>, whose model its owner loads (<see cref="ServerState.StartLoading"/>).</summary>
    public static IEndpointRouteBuilder MapFrugal(this IEndpointRouteBuilder endpoints, ServerState state)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(state);
        var guard = new RequestGuard(state);
        endpoints.MapPost("/v1/chat/completions", guard.Wrap(c => ChatCompletionsEndpoint.HandleAsync(c, state), needsKey: true));
        endpoints.MapPost("/v1/completions", guard.Wrap(c => CompletionsEndpoint.HandleAsync(c, state), needsKey: true));
        endpoints.MapPost("/v1/embeddings", guard.Wrap(c => EmbeddingsEndpoint.HandleAsync(c, state), needsKey: true));
        endpoints.MapGet("/v1/models", guard.Wrap(c => InfoEndpoints.Models(state).ExecuteAsync(c), needsKey: true));
        endpoints.MapGet("/health", guard.Wrap(c => InfoEndpoints.Health(state).ExecuteAsync(c), needsKey: false));
        endpoints.MapGet("/metrics", guard.Wrap(async c => await (await InfoEndpoints.MetricsAsync(state, c.RequestAborted)).ExecuteAsync(c), needsKey: false));
        // Any other /v1 path or method: an OpenAI error object rather than routing's empty 404/405. A catch-all has the
        // lowest route precedence, so a host app's own /v1 routes still win.
        endpoints.Map("/v1/{**rest}", guard.Wrap(c => throw UnknownRoute(c.Request), needsKey: true));
        return endpoints;
    }

    private static readonly Dictionary<string, string> Methods = new(StringComparer.OrdinalIgnoreCase)
    {
        ["/v1/chat/completions"] = "POST",
        ["/v1/completions"] = "POST",
        ["/v1/embeddings"] = "POST",
        ["/v1/models"] = "GET",
    };

    private static ApiError UnknownRoute(HttpRequest request) =>
        Methods.TryGetValue(request.Path.Value?.TrimEnd('/') ?? "", out var method)
            ? new ApiError(405, $"{request.Path} takes {method}, not {request.Method}", code: "method_not_allowed")
            : new ApiError(404, $"this server has no endpoint {request.Method} {request.Path}", "not_found_error", code: "unknown_url");

    private static ILoggerFactory Loggers(IEndpointRouteBuilder endpoints) =>
        endpoints.ServiceProvider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
}
