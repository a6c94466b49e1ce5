using System.Net;
using Frugal.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Frugal.Cluster;

/// <summary>
/// One node of a Frugal cluster (<c>frugal serve MODEL --cluster NAME ...</c>): an Orleans silo hosting an engine,
/// and the OpenAI gateway over HTTP that accepts any request and routes it to the best silo.
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private readonly IHost _silo;

    private ClusterNode(IHost silo, FrugalServer gateway)
    {
        _silo = silo;
        Gateway = gateway;
    }

    /// <summary>The HTTP gateway (its <see cref="FrugalServer.BaseAddress"/>, its <see cref="FrugalServer.Loaded"/>).</summary>
    public FrugalServer Gateway { get; }

    public SiloEngine Engine => _silo.Services.GetRequiredService<SiloEngine>();

    public static async Task<ClusterNode> StartAsync(ClusterNodeOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.UseOrleans(silo =>
        {
            if (options.RedisConnectionString is { } redis)
            {
                silo.UseRedisClustering(redis);
                silo.Configure<ClusterOptions>(c =>
                {
                    c.ClusterId = options.ClusterName;
                    c.ServiceId = "frugal";
                });
                silo.ConfigureEndpoints(options.AdvertisedAddress, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
            }
            else
            {
                // The primary (no seed) is its own seed; the others find the cluster through it.
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort,
                    options.Seed ?? new IPEndPoint(IPAddress.Loopback, options.SiloPort), serviceId: "frugal", clusterId: options.ClusterName);
            }
            silo.AddFrugalEngine(options);
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        try
        {
            return new ClusterNode(host, await ServeGatewayAsync(host.Services, logging, cancellationToken));
        }
        catch
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
            throw;
        }
    }

    /// <summary>Serves the OpenAI endpoints of a silo that runs <see cref="FrugalSiloBuilderExtensions.AddFrugalEngine"/>, at its ServerOptions' host and port.</summary>
    public static Task<FrugalServer> ServeGatewayAsync(IServiceProvider silo, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default) =>
        FrugalServer.StartAsync(silo.GetRequiredService<SiloEngine>().State, logging, cancellationToken);

    /// <summary>Runs until <paramref name="cancellationToken"/> fires or the silo is stopped.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _silo.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await _silo.StopAsync(CancellationToken.None);
        _silo.Dispose();
    }
}
