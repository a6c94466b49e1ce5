using System.CommandLine;
using System.Text.Json;
using Frugal.Inference.Constraints;

namespace Frugal.Cli.Commands;

/// <summary>
/// Constrained output: llama.cpp's <c>--grammar</c>, <c>--grammar-file</c> and <c>--json-schema</c> (text or @FILE),
/// and <c>--json-object</c> (OpenAI's json_object). At most one of them; a bad grammar or an unsupported schema is
/// an error that says what and where.
/// </summary>
internal sealed class GrammarCliOptions
{
    private readonly Option<string?> _grammar = new("--grammar") { Description = "constrain the output to this GBNF grammar (llama.cpp's syntax)" };
    private readonly Option<string?> _grammarFile = new("--grammar-file") { Description = "constrain the output to the GBNF grammar in this file" };
    private readonly Option<string?> _schema = new("--json-schema") { Description = "constrain the output to JSON matching this JSON Schema (text, or @FILE)" };
    private readonly Option<bool> _object = new("--json-object") { Description = "constrain the output to a JSON object" };

    public void AddTo(Command command)
    {
        command.Options.Add(_grammar);
        command.Options.Add(_grammarFile);
        command.Options.Add(_schema);
        command.Options.Add(_object);
    }

    public GbnfGrammar? Parse(ParseResult parse)
    {
        string? grammar = parse.GetValue(_grammar), file = parse.GetValue(_grammarFile), schema = parse.GetValue(_schema);
        bool jsonObject = parse.GetValue(_object);
        int given = (grammar is null ? 0 : 1) + (file is null ? 0 : 1) + (schema is null ? 0 : 1) + (jsonObject ? 1 : 0);
        if (given > 1) throw new CliError("give only one of --grammar, --grammar-file, --json-schema and --json-object");
        if (jsonObject) return JsonGrammar.Object;
        if (file is not null)
        {
            if (!File.Exists(file)) throw new CliError($"--grammar-file: no such file '{file}'");
            grammar = File.ReadAllText(file);
        }
        if (grammar is not null)
        {
            try { return GbnfGrammar.Parse(grammar); }
            catch (GrammarFormatException e) { throw new CliError($"{(file is null ? "--grammar" : $"--grammar-file {file}")}: {e.Message}"); }
        }
        if (schema is null) return null;
        if (schema.StartsWith('@'))
        {
            string path = schema[1..];
            if (!File.Exists(path)) throw new CliError($"--json-schema: no such file '{path}'");
            schema = File.ReadAllText(path);
        }
        try
        {
            using var doc = JsonDocument.Parse(schema);
            return JsonSchemaGrammar.Compile(doc.RootElement);
        }
        catch (JsonException e) { throw new CliError($"--json-schema is not valid JSON: {e.Message}"); }
        catch (JsonSchemaException e) { throw new CliError($"--json-schema: {e.Message}"); }
        catch (GrammarFormatException e) { throw new CliError($"--json-schema: {e.Message}"); }
    }
}
