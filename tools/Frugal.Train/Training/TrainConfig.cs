using System.Text.Json;
using System.Text.Json.Serialization;
using Frugal.Train.Model;

namespace Frugal.Train.Training;

/// <summary>
/// Everything that determines a training run; with the same config the run is bit-for-bit the same. <c>init</c>, when
/// set, names a model file of the same shape whose weights the run starts from instead of a random initialization
/// (a second stage of training; the path is relative to the working directory), and <c>short_mix</c> weighs the
/// <see cref="Frugal.Evaluation.DocumentKind"/>s in order (4 or 5 weights: chained sums came later).
/// </summary>
public sealed record TrainConfig(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("shape")] ModelShape Shape,
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("steps")] int Steps,
    [property: JsonPropertyName("learning_rate")] float LearningRate,
    [property: JsonPropertyName("min_learning_rate")] float MinLearningRate,
    [property: JsonPropertyName("warmup_steps")] int WarmupSteps,
    [property: JsonPropertyName("short_rows")] int ShortRows,
    [property: JsonPropertyName("short_row_tokens")] int ShortRowTokens,
    [property: JsonPropertyName("long_rows")] int LongRows,
    [property: JsonPropertyName("short_mix")] double[] ShortMix,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("grad_clip")] float GradClip = 1f,
    [property: JsonPropertyName("weight_decay")] float WeightDecay = 0.1f,
    [property: JsonPropertyName("answers_only")] bool AnswersOnly = false,
    [property: JsonPropertyName("recall_answer_weight")] float RecallAnswerWeight = 1f,
    [property: JsonPropertyName("arithmetic_answer_weight")] float ArithmeticAnswerWeight = 1f,
    [property: JsonPropertyName("validate_every")] int ValidateEvery = 0,
    [property: JsonPropertyName("validate_items")] int ValidateItems = 200,
    [property: JsonPropertyName("init")] string? Init = null,
    [property: JsonPropertyName("teacher")] string? Teacher = null,
    [property: JsonPropertyName("distill_rows")] int DistillRows = 0,
    [property: JsonPropertyName("distill_row_tokens")] int DistillRowTokens = 320,
    [property: JsonPropertyName("distill_mix")] double DistillMix = 0,
    [property: JsonPropertyName("distill_ban_eos")] double DistillBanEos = 0.5)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static TrainConfig FromJson(string json, string source) =>
        JsonSerializer.Deserialize<TrainConfig>(json) ?? throw new InvalidDataException($"{source}: not a training config");

    /// <summary>Learning rate at a step: linear warm-up, then cosine decay to the minimum.</summary>
    public float LearningRateAt(int step)
    {
        if (step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, Steps - WarmupSteps);
        return (float)(MinLearningRate + 0.5 * (LearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * Math.Min(1, progress))));
    }

    /// <summary>
    /// Stage 1 of the shipped main model (written to models/frugal-main-base.gguf): ~0.92M parameters (dim 128, 4 layers, GQA 4/2), 512 context, 20,000 steps of 1,280
    /// tokens (4 short rows of 192 + one 512-token recall row), answers-only scoring of the task documents, the code
    /// digits of recall answers and the answer digits of arithmetic weighted 4x (the first recall code digit is the
    /// only token that needs the lookup; without the arithmetic weight, addition was lost while the lookup formed),
    /// one thread (the run is bit-for-bit reproducible for a thread count), and the checkpoint that scores best on a
    /// training-side validation set every 250 steps is the one kept. A 1.78M model (dim 192, 6/2 heads, FFN 512,
    /// lr 2e-3) on the same data had learnt no task after 4000 steps, while this one learns addition and copying
    /// within 8000: on this budget more, smaller steps win.
    /// </summary>
    public static TrainConfig MainBaseModel(int vocab) => new(
        "frugal-main", new ModelShape(Dim: 128, Layers: 4, Heads: 4, KvHeads: 2, FfnDim: 384, Vocab: vocab, Context: 512),
        Seed: 1, Steps: 20000, LearningRate: 3e-3f, MinLearningRate: 3e-4f, WarmupSteps: 100,
        ShortRows: 4, ShortRowTokens: 192, LongRows: 1, ShortMix: [0.1, 0.45, 0.3, 0.15], Threads: 1, AnswersOnly: true,
        RecallAnswerWeight: 4f, ArithmeticAnswerWeight: 4f, ValidateEvery: 250, ValidateItems: 100);

    /// <summary>
    /// The shipped main model: stage 2 starts from <see cref="MainBaseModel"/>'s weights and adds chained sums worked
    /// step by step (<see cref="Frugal.Evaluation.ChainTask"/>) to the mix, 35% of the short-row documents, with the
    /// other kinds kept in so their skills stay: 10,000 steps at lr 1e-3 cosine to 1e-4 (a tenth of stage 1's peak;
    /// AdamW's moments start afresh), two threads, the last step kept (no validation: it would score only the stage-1
    /// tasks). Its corpus seed differs from stage 1's, so it sees new documents.
    /// </summary>
    public static TrainConfig MainModel(int vocab) => MainBaseModel(vocab) with
    {
        Seed = 3, Steps = 10000, LearningRate = 1e-3f, MinLearningRate = 1e-4f, ShortMix = [0.1, 0.25, 0.2, 0.1, 0.35], Threads = 2,
        ValidateEvery = 0, Init = "models/frugal-main-base.gguf",
    };

    /// <summary>
    /// The draft model for speculative decoding, distilled from the main model (<see cref="Distillation.TeacherRows"/>):
    /// ~0.12M parameters, one layer (a draft step costs ~0.14 of a main step; two layers cost ~0.22 for no better
    /// agreement), same tokenizer and context. Its short rows are 8000 teacher continuations of training-side story
    /// openings, all with EOS banned (what <c>--ignore-eos</c> generation asks of main; where main may stop, a draft
    /// that proposes more text costs one rejected draft at the end of the generation), mixed with corpus rows (the
    /// tasks, whose answers are what main writes). Trained on the corpus alone, a draft agreed with main's greedy
    /// token 61% of the time on the bench's stories; distilled, 97%.
    /// </summary>
    public static TrainConfig DraftModel(int vocab) => new(
        "frugal-draft", new ModelShape(Dim: 64, Layers: 1, Heads: 2, KvHeads: 1, FfnDim: 192, Vocab: vocab, Context: 512),
        Seed: 2, Steps: 12000, LearningRate: 4e-3f, MinLearningRate: 4e-4f, WarmupSteps: 100,
        ShortRows: 4, ShortRowTokens: 192, LongRows: 0, ShortMix: [0.1, 0.45, 0.3, 0.15], Threads: 2, AnswersOnly: true,
        Teacher: "models/frugal-main.gguf", DistillRows: 8000, DistillRowTokens: 320, DistillMix: 0.75, DistillBanEos: 1.0);

    /// <summary>A config small enough for a unit test to train in seconds.</summary>
    public static TrainConfig Tiny(int vocab) => new(
        "tiny", new ModelShape(Dim: 32, Layers: 2, Heads: 4, KvHeads: 2, FfnDim: 64, Vocab: vocab, Context: 64),
        Seed: 7, Steps: 30, LearningRate: 1e-2f, MinLearningRate: 1e-3f, WarmupSteps: 3,
        ShortRows: 4, ShortRowTokens: 64, LongRows: 0, ShortMix: [0.3, 0.45, 0.25, 0], Threads: 1);
}
