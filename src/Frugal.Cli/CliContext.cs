using Frugal.Gguf;
using Frugal.Models;
using Frugal.Planning;
using Frugal.Tokenization;

namespace Frugal.Cli;

/// <summary>
/// Everything a command touches outside its arguments: where text goes, how models and tokenizers are built from a
/// file, and cancellation. Tests run the CLI in-process with string writers and small fake models.
/// </summary>
public sealed class CliContext(TextWriter output, TextWriter error)
{
    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>Where interactive commands (<c>frugal chat</c>) read the user's lines, and <c>run</c> a piped prompt.</summary>
    public TextReader In { get; init; } = Console.In;

    /// <summary>Whether <see cref="In"/> is a pipe or a file rather than a terminal: <c>run</c> takes its prompt from it then.</summary>
    public bool InputRedirected { get; init; } = Console.IsInputRedirected;

    /// <summary>Whether <see cref="Error"/> is a terminal: progress (a spinner while a model loads) is shown only there.</summary>
    public bool ErrorIsTerminal { get; init; } = !Console.IsErrorRedirected;

    /// <summary>Builds the model of an open file under the given load options (<c>--mem-budget</c>).</summary>
    public Func<GgufFile, ModelLoadOptions, ILanguageModel> LoadModel { get; init; } = ModelLoader.Load;

    public Func<GgufFile, Tokenizer> LoadTokenizer { get; init; } = Tokenizer.FromGguf;

    /// <summary>Where <c>run --demo</c> keeps its generated model file.</summary>
    public string DemoDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "frugal-demo");

    /// <summary>
    /// The built-in model <c>frugal run</c> uses when no MODEL is given: models/frugal-main.gguf, trained by
    /// tools/Frugal.Train and copied beside the executable at build time.
    /// </summary>
    public string DefaultModelPath { get; init; } = Path.Combine(AppContext.BaseDirectory, "models", "frugal-main.gguf");

    /// <summary>
    /// How <c>frugal plan</c> measures the machine for a model file (path, header shape, prefill batch tokens); tests
    /// give fixed figures so no timing enters them.
    /// </summary>
    public Func<string, ModelShape, int, MachineProfile> MeasureMachine { get; init; } =
        (path, shape, tokens) => MachineProbe.Measure(path, shape, tokens);

    public CancellationToken Cancellation { get; init; }

    /// <summary>The environment the hub settings come from (HF_ENDPOINT, HF_TOKEN, FRUGAL_HOME); tests point it at their own hub.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;
}
