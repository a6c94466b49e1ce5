using System.Net;
using Frugal.Server.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Frugal.Server;

/// <summary>
/// The OpenAI-compatible HTTP server: ASP.NET Core minimal APIs over one <see cref="ServedModel"/>. It listens at
/// once and loads the model in the background; /health answers 503 until the model is ready.
/// </summary>
public sealed class FrugalServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FrugalServer(WebApplication app, ServerState state, Uri baseAddress, Task loaded)
    {
        _app = app;
        State = state;
        BaseAddress = baseAddress;
        Loaded = loaded;
    }

    public ServerState State { get; }

    /// <summary>http://host:port/ the server listens at (the real port when 0 was asked for).</summary>
    public Uri BaseAddress { get; }

    /// <summary>Completes when the model is loaded (faults when loading failed).</summary>
    public Task Loaded { get; }

    public static async Task<FrugalServer> StartAsync(ServerOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var address = options.Host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(options.Host, out var ip) ? ip
            : throw new ArgumentException($"--host must be an IP address or localhost, got '{options.Host}'", nameof(options));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.Listen(address, options.Port);
        });
        var state = new ServerState(options);
        var app = builder.Build();
        app.Use((context, next) => Guard(context, next, state));
        app.MapPost("/v1/chat/completions", (HttpContext c) => ChatCompletionsEndpoint.HandleAsync(c, state));
        app.MapPost("/v1/completions", (HttpContext c) => CompletionsEndpoint.HandleAsync(c, state));
        app.MapGet("/v1/models", () => InfoEndpoints.Models(state));
        app.MapGet("/health", () => InfoEndpoints.Health(state));
        app.MapGet("/metrics", () => InfoEndpoints.Metrics(state));
        app.MapWebChat();
        await app.StartAsync(cancellationToken);

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var loaded = Task.Run(() =>
        {
            try
            {
                state.SetModel(ServedModel.Load(options));
            }
            catch (Exception e)
            {
                state.LoadError = e;
                throw;
            }
        }, CancellationToken.None);
        return new FrugalServer(app, state, new Uri(bound.EndsWith('/') ? bound : bound + "/"), loaded);
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires or the host is stopped.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>API key check, error objects for refused requests, and the status counter.</summary>
    private static async Task Guard(HttpContext context, RequestDelegate next, ServerState state)
    {
        try
        {
            if (state.Options.ApiKey is { } key && context.Request.Path.StartsWithSegments("/v1")
                && context.Request.Headers.Authorization.ToString() != "Bearer " + key)
                throw new ApiError(401, "a valid API key is required: send 'Authorization: Bearer KEY'", "authentication_error", code: "invalid_api_key");
            await next(context);
        }
        catch (ApiError e) when (!context.Response.HasStarted)
        {
            await e.WriteAsync(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await new ApiError(e.StatusCode, e.Message).WriteAsync(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; its sequences were cancelled through RequestAborted.
        }
        finally
        {
            state.Responses.AddOrUpdate(context.Response.StatusCode, 1, (_, n) => n + 1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { await Loaded; } catch { /* reported through Loaded and /health */ }
        State.Model?.Dispose();
    }
}
