using Frugal.Server;
using Microsoft.AspNetCore.Http;

namespace Frugal.Tests.Server;

/// <summary>
/// The status counter behind /metrics counts what the client is answered: a fault no handler answers becomes the
/// framework's 500, so it must be counted as 500, not as the 200 the response still reads while the guard unwinds.
/// </summary>
public class RequestGuardTests
{
    [Fact]
    public async Task A_fault_that_escapes_the_endpoint_is_counted_as_500()
    {
        using var state = new ServerState(new ServerOptions { ModelPath = "unused.gguf" });
        var guarded = new RequestGuard(state).Wrap(_ => throw new InvalidOperationException("a bug"), needsKey: false);
        var context = new DefaultHttpContext();
        context.Request.Path = "/v1/chat/completions";

        await Assert.ThrowsAsync<InvalidOperationException>(() => guarded(context));

        Assert.Equal(1, state.Responses.GetValueOrDefault(500));
        Assert.Equal(0, state.Responses.GetValueOrDefault(200));
    }

    [Fact]
    public async Task A_refusal_is_counted_with_its_own_status()
    {
        using var state = new ServerState(new ServerOptions { ModelPath = "unused.gguf" });
        var guarded = new RequestGuard(state).Wrap(_ => throw new ApiError(400, "bad field"), needsKey: false);
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();

        await guarded(context);

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal(1, state.Responses.GetValueOrDefault(400));
        Assert.Equal(0, state.Responses.GetValueOrDefault(500));
    }
}
