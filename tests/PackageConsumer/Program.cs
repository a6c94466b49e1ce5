// Generates a few tokens through Microsoft.Extensions.AI's IChatClient from the Frugal package: a reply, then a
// streamed one. Usage: PackageConsumer MODEL.gguf. Exit 0 when both produced tokens.
using Frugal.Inference.ChatClient;
using Frugal.Inference.Engine;
using Microsoft.Extensions.AI;

if (args.Length != 1 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: PackageConsumer MODEL.gguf (an existing GGUF file)");
    return 2;
}

using var frugal = FrugalChatClient.Load(args[0], new EngineOptions { ContextLength = 256, MaxRunningSequences = 1 });
IChatClient client = frugal;
var options = new ChatOptions { MaxOutputTokens = 8, Temperature = 0 };
List<ChatMessage> conversation = [new(ChatRole.User, "Tell me a story about a cat.")];

var reply = await client.GetResponseAsync(conversation, options);
long tokens = reply.Usage?.OutputTokenCount ?? 0;
Console.WriteLine($"reply: {tokens} tokens: {reply.Text}");

int updates = 0;
await foreach (var update in client.GetStreamingResponseAsync(conversation, options))
    if (update.Text.Length > 0) updates++;
Console.WriteLine($"stream: {updates} text updates");

if (tokens < 1 || updates < 1)
{
    Console.Error.WriteLine("error: the package generated no tokens");
    return 1;
}
Console.WriteLine("ok: the Frugal package generates through IChatClient");
return 0;
