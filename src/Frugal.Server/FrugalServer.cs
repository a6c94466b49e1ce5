using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Frugal.Server;

/// <summary>
/// The OpenAI-compatible HTTP server of <c>frugal serve</c>: Kestrel on one address with the endpoints of
/// <see cref="FrugalEndpoints.MapFrugal(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder, ServerOptions)"/> over one
/// <see cref="ServedModel"/>. It listens at once and loads the model in the background; /health answers 503 until the
/// model is ready.
/// </summary>
public sealed class FrugalServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly bool _ownsState;

    private FrugalServer(WebApplication app, ServerState state, Uri baseAddress, Task loaded, bool ownsState)
    {
        _app = app;
        _ownsState = ownsState;
        State = state;
        BaseAddress = baseAddress;
        Loaded = loaded;
    }

    public ServerState State { get; }

    /// <summary>http://host:port/ the server listens at (the real port when 0 was asked for).</summary>
    public Uri BaseAddress { get; }

    /// <summary>Completes when the model is loaded (faults when loading failed).</summary>
    public Task Loaded { get; }

    public static Task<FrugalServer> StartAsync(ServerOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default) =>
        StartAsync(options, null, logging, cancellationToken);

    /// <summary>
    /// Serves <paramref name="state"/>, whose owner loads and releases its model (a cluster silo: see Frugal.Cluster),
    /// on <see cref="ServerOptions.Host"/> and <see cref="ServerOptions.Port"/> of its options.
    /// </summary>
    public static Task<FrugalServer> StartAsync(ServerState state, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        return StartAsync(state.Options, state, logging, cancellationToken);
    }

    private static async Task<FrugalServer> StartAsync(ServerOptions options, ServerState? given, Action<ILoggingBuilder>? logging, CancellationToken cancellationToken)
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
        var app = builder.Build();
        // The same call a host app makes; it starts loading the model (a given state is its owner's to load).
        var state = given ?? app.MapFrugal(options);
        if (given is not null) app.MapFrugal(given);
        app.MapFrugalWebChat();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            if (given is null) state.Dispose();
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FrugalServer(app, state, new Uri(bound.EndsWith('/') ? bound : bound + "/"), state.Loaded ?? Task.CompletedTask, ownsState: given is null);
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires or the host is stopped.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsState) State.Dispose();
    }
}
