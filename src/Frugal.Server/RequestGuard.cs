using System.Diagnostics;
using Frugal.Server.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Frugal.Server;

/// <summary>
/// Wraps every Frugal endpoint: the API key check, error objects for refused requests, the status counter behind
/// /metrics, and one log line per request (request line, status, prompt and completion tokens, time).
/// </summary>
internal sealed class RequestGuard(ServerState state)
{
    private static readonly object UsageKey = new();

    public RequestDelegate Wrap(RequestDelegate endpoint, bool needsKey) => context => RunAsync(context, endpoint, needsKey);

    /// <summary>Called by the generating endpoints, so the request's log line carries its token counts.</summary>
    public static void RecordUsage(HttpContext context, Usage usage) => context.Items[UsageKey] = usage;

    private async Task RunAsync(HttpContext context, RequestDelegate endpoint, bool needsKey)
    {
        long start = Stopwatch.GetTimestamp();
        bool aborted = false, escaped = false;
        try
        {
            if (needsKey && state.Options.ApiKey is { } key && context.Request.Headers.Authorization.ToString() != "Bearer " + key)
                throw new ApiError(401, "a valid API key is required: send 'Authorization: Bearer KEY'", "authentication_error", code: "invalid_api_key");
            await endpoint(context);
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
            aborted = true;
        }
        catch (Exception e) when (context.Response.HasStarted && context.Response.ContentType == "text/event-stream")
        {
            // A generation cut off mid-stream (an engine step failed, a cluster silo went down): the client gets an
            // error event and no [DONE], never a stream that merely stops.
            state.Logger.LogWarning("{Method} {Path}: the stream ended with an error: {Error}", context.Request.Method, context.Request.Path.Value, e.Message);
            var error = e as ApiError ?? new ApiError(500, $"the generation failed: {e.Message}", "server_error", code: "generation_failed");
            await CompletionRunner.WriteEventAsync(context, new ErrorBody(new ErrorObject(error.Message, error.Type, error.Param, error.Code)));
        }
        catch (Exception) when (!context.Response.HasStarted)
        {
            // A fault no handler above answers: the framework replies 500 once this rethrows, after the finally
            // below, so the counter must say 500 (the status still reads 200 here) or /metrics would hide it.
            escaped = true;
            throw;
        }
        finally
        {
            int status = escaped ? 500 : context.Response.StatusCode;
            state.Responses.AddOrUpdate(status, 1, (_, n) => n + 1);
            Log(context, status, Stopwatch.GetElapsedTime(start), aborted);
        }
    }

    private void Log(HttpContext context, int status, TimeSpan elapsed, bool aborted)
    {
        var logger = state.Logger;
        // Probes (/health, /metrics) arrive every few seconds; they would drown the generation requests.
        var level = context.Request.Path.StartsWithSegments("/v1") ? LogLevel.Information : LogLevel.Debug;
        if (!logger.IsEnabled(level)) return;
        var request = context.Request;
        double ms = Math.Round(elapsed.TotalMilliseconds, 1);
        if (aborted)
            logger.Log(level, "{Method} {Path} {Status} {ElapsedMs} ms, the client went away", request.Method, request.Path.Value, status, ms);
        else if (context.Items[UsageKey] is Usage usage)
            logger.Log(level, "{Method} {Path} {Status} {ElapsedMs} ms prompt_tokens={PromptTokens} completion_tokens={CompletionTokens}",
                request.Method, request.Path.Value, status, ms, usage.PromptTokens, usage.CompletionTokens);
        else
            logger.Log(level, "{Method} {Path} {Status} {ElapsedMs} ms", request.Method, request.Path.Value, status, ms);
    }
}
