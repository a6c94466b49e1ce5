using Frugal.Cli;
using Frugal.Inference.ChatClient;
using Frugal.Tests.Engine;
using Microsoft.Extensions.AI;

namespace Frugal.Tests.Server;

public class ChatCommandTests
{
    [Fact]
    public async Task Chat_streams_each_reply_and_keeps_the_conversation()
    {
        var output = new StringWriter();
        var context = new CliContext(output, new StringWriter()) { In = new StringReader("Hello.\nAnd again?\n/exit\n") };
        int code = FrugalCli.Run(["chat", ServingModels.Tiny, "--temp", "0", "-n", "6", "--system", "Be brief.", "--ctx", "256"], context);
        Assert.Equal(0, code);

        // The same two turns through the chat client: the command must print exactly these replies.
        using var client = FrugalChatClient.Load(ServingModels.Tiny, new Frugal.Inference.Engine.EngineOptions { ContextLength = 256 });
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 6 };
        var history = new List<ChatMessage> { new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hello.") };
        string first = (await client.GetResponseAsync(history, options)).Text;
        history.Add(new ChatMessage(ChatRole.Assistant, first));
        history.Add(new ChatMessage(ChatRole.User, "And again?"));
        string second = (await client.GetResponseAsync(history, options)).Text;
        Assert.Equal($"> {first}\n> {second}\n> ", output.ToString().ReplaceLineEndings("\n"));
    }
}
