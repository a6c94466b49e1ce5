using System.CommandLine;
using System.Text;

namespace Frugal.Cli.Commands;

/// <summary><c>frugal tokenize MODEL TEXT [--json]</c>: token ids the way llama.cpp's llama-tokenize gives them.</summary>
internal static class TokenizeCommand
{
    public static Command Create(CliContext context)
    {
        var model = CommonArguments.Model();
        var text = new Argument<string>("TEXT") { Description = "text to tokenize" };
        var json = CommonArguments.Json();
        var noSpecial = new Option<bool>("--no-bos") { Description = "add no BOS or other special tokens (llama_tokenize add_special = false)" };
        var command = new Command("tokenize", "print the token ids of a text") { model, text, json, noSpecial };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            using var file = CommonArguments.Open(HubModels.Resolve(context, parse.GetValue(model)!));
            var tokenizer = context.LoadTokenizer(file);
            int[] ids = tokenizer.Encode(parse.GetValue(text)!, addSpecial: !parse.GetValue(noSpecial), parseSpecial: true);
            if (parse.GetValue(json))
            {
                JsonText.WriteLine(context.Out, j => JsonText.WriteIds(j, "ids", ids));
                return 0;
            }
            var lossy = new UTF8Encoding(false, false);
            foreach (int id in ids)
                context.Out.WriteLine($"{id,6} -> '{lossy.GetString(tokenizer.TokenBytes(id))}'");
            return 0;
        }));
        return command;
    }
}
