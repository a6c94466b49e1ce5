using System.Text.RegularExpressions;
using Frugal.Tools.Hub;

// FakeHub [--port N] OWNER/REPO=PATH ...: serves GGUF files on 127.0.0.1 as Hugging Face hub repositories, with the
// endpoints `frugal pull` uses (see FakeHub.cs). PATH is a .gguf file or a folder whose *.gguf files the repository
// holds. Prints the hub's URL (for HF_ENDPOINT) as the first line on stdout once it is listening; stops on Ctrl-C or
// SIGTERM. Example: FakeHub frugal/tiny=models/frugal-main.gguf
const string Usage = "usage: FakeHub [--port N] OWNER/REPO=PATH ... (PATH: a .gguf file or a folder of them)";

int port = 0;
var repos = new List<(string Repo, string[] Files)>();
for (int i = 0; i < args.Length; i++)
{
    string arg = args[i];
    if (arg is "-h" or "--help") return Exit(Usage, 0);
    if (arg == "--port")
    {
        if (i + 1 >= args.Length || !int.TryParse(args[++i], out port) || port is < 0 or > 65535)
            return Exit($"error: --port takes a port number from 0 (any free port) to 65535\n{Usage}");
        continue;
    }
    int eq = arg.IndexOf('=');
    string repo = eq < 0 ? "" : arg[..eq];
    if (!Regex.IsMatch(repo, @"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$"))
        return Exit($"error: '{arg}' is not OWNER/REPO=PATH\n{Usage}");
    string path = arg[(eq + 1)..];
    string[] files = Directory.Exists(path) ? Directory.GetFiles(path, "*.gguf").Order(StringComparer.Ordinal).ToArray()
        : File.Exists(path) ? [path] : [];
    if (files.Length == 0)
        return Exit($"error: {path} (for {repo}) is {(Directory.Exists(path) ? "a folder with no .gguf file" : "neither a file nor a folder")}");
    if (files.FirstOrDefault(f => new FileInfo(f).Length > Array.MaxLength) is { } big)
        return Exit($"error: {big} is over {Array.MaxLength} bytes, more than this hub holds in memory");
    repos.Add((repo, files));
}
if (repos.Count == 0) return Exit($"error: no repository to serve\n{Usage}");

FakeHub hub;
try
{
    hub = await FakeHub.StartAsync(port);
}
catch (IOException e)
{
    return Exit($"error: cannot listen on 127.0.0.1:{port}: {e.Message}");
}
await using (hub)
{
    foreach (var (repo, files) in repos)
        foreach (string file in files)
        {
            hub.Add(repo, Path.GetFileName(file), File.ReadAllBytes(file));
            Console.Error.WriteLine($"FakeHub: {repo}/{Path.GetFileName(file)} ({new FileInfo(file).Length} bytes)");
        }
    Console.Out.WriteLine(hub.Address.ToString().TrimEnd('/'));
    await hub.WaitForShutdownAsync();
}
return 0;

static int Exit(string message, int code = 1)
{
    (code == 0 ? Console.Out : Console.Error).WriteLine(message);
    return code;
}
