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

    [Fact]
    public async Task Chat_without_a_model_continues_text_with_the_built_in_model()
    {
        var output = new StringWriter();
        var context = new CliContext(output, new StringWriter())
        {
            In = new StringReader("Once upon a time,\n/exit\n"),
            DefaultModelPath = Path.Combine(Training.ShippedModels.Directory, "frugal-main.gguf"),
        };
        Assert.Equal(0, FrugalCli.Run(["chat", "--temp", "0", "-n", "12"], context));

        // The built-in model is a base model: its template is plain text, so the reply is the greedy continuation.
        using var client = FrugalChatClient.Load(context.DefaultModelPath, new Frugal.Inference.Engine.EngineOptions { ContextLength = 512 });
        var reply = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time,")], new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });
        Assert.False(string.IsNullOrWhiteSpace(reply.Text));
        Assert.Equal($"> {reply.Text}\n> ", output.ToString().ReplaceLineEndings("\n"));
    }
}
