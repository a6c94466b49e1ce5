using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;

using Frugal.Models;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal logits MODEL --tokens 1,2,3 --out FILE</c>: evaluates the ids as one sequence and writes the logits of
/// every position as float32 little-endian, row-major [positions][vocab] (for comparison with llama.cpp).
/// </summary>
internal static class LogitsCommand
{
    public static Command Create(CliContext context)
    {
        var model = CommonArguments.Model();
        var tokens = new Option<string>("--tokens") { Description = "comma-separated token ids", Required = true };
        var output = new Option<string>("--out") { Description = "file to write [positions][vocab] float32 LE logits to", Required = true };
        var command = new Command("logits", "write the logits of every position of a token sequence") { model, tokens, output };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            int[] ids = ParseIds(parse.GetValue(tokens)!);
            using var file = CommonArguments.Open(HubModels.Resolve(context, parse.GetValue(model)!));
            using var lm = context.LoadModel(file, ModelLoadOptions.Default);
            int vocab = lm.Config.VocabSize;
            for (int i = 0; i < ids.Length; i++)
                if ((uint)ids[i] >= (uint)vocab)
                    throw new CliError($"--tokens: id {ids[i]} (position {i}) is outside the vocabulary [0, {vocab})");
            if (ids.Length > lm.Config.ContextLength)
                throw new CliError($"--tokens: {ids.Length} tokens exceed the model's context length {lm.Config.ContextLength}");
            if ((long)ids.Length * vocab > Array.MaxLength)
                throw new CliError($"--tokens: {ids.Length} positions x {vocab} logits do not fit in one buffer; pass fewer tokens");

            var logits = new float[ids.Length * vocab]; // [positions, vocab]
            lm.Forward(ids, lm.CreateCache(ids.Length), logits, allLogits: true);
            string path = parse.GetValue(output)!;
            using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write))
            {
                if (!BitConverter.IsLittleEndian)
                    for (int i = 0; i < logits.Length; i++)
                        logits[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReverseEndianness(BitConverter.SingleToInt32Bits(logits[i])));
                stream.Write(MemoryMarshal.AsBytes(logits.AsSpan()));
            }
            context.Error.WriteLine($"wrote {ids.Length} x {vocab} float32 logits to {path}");
            return 0;
        }));
        return command;
    }

    internal static int[] ParseIds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new CliError($"--tokens: '{parts[i]}' is not a token id (expected comma-separated non-negative integers such as 1,2,3)");
        return ids;
    }
}
