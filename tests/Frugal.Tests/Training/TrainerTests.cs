using Frugal.Train.Bpe;
using Frugal.Train.Export;
using Frugal.Train.Training;

namespace Frugal.Tests.Training;

public class TrainerTests
{
    [Fact]
    public void Loss_falls_over_thirty_steps_of_a_tiny_model()
    {
        var tok = LlamaCppExportTests.SmallTokenizer();
        var trainer = new Trainer(TrainConfig.Tiny(tok.VocabSize), tok, corpusSeed: 5);
        var losses = new List<double>();
        for (int i = 0; i < 30; i++) losses.Add(trainer.TrainStep());
        double first = losses.Take(3).Average(), last = losses.TakeLast(3).Average();
        Assert.True(first > Math.Log(tok.VocabSize) - 0.5, $"initial loss {first:F3} should be near ln(vocab) = {Math.Log(tok.VocabSize):F3}");
        Assert.True(last < first - 1.0, $"loss went from {first:F3} to {last:F3}");
    }

    [Fact]
    public void Same_seed_gives_the_same_weights()
    {
        var tok = LlamaCppExportTests.SmallTokenizer();
        var config = TrainConfig.Tiny(tok.VocabSize) with { Threads = 2 };
        float[] Train()
        {
            var trainer = new Trainer(config, tok, corpusSeed: 5);
            for (int i = 0; i < 3; i++) trainer.TrainStep();
            return trainer.Weights.Values;
        }
        Assert.Equal(Train(), Train());
    }

    [Fact]
    public void Stopping_early_gives_the_same_weights_as_the_full_run_at_that_step()
    {
        var tok = LlamaCppExportTests.SmallTokenizer();
        var config = TrainConfig.Tiny(tok.VocabSize);
        var stopped = new Trainer(config, tok, corpusSeed: 5);
        stopped.Run(stopAt: 4);
        var stepped = new Trainer(config, tok, corpusSeed: 5);
        for (int i = 0; i < 4; i++) stepped.TrainStep();
        Assert.Equal(4, stopped.Step);
        Assert.Equal(stepped.Weights.Values, stopped.Weights.Values);
    }

    [Fact]
    public void A_run_with_init_starts_from_that_model_and_refuses_another_shape()
    {
        var tok = LlamaCppExportTests.SmallTokenizer();
        var config = TrainConfig.Tiny(tok.VocabSize);
        var first = new Trainer(config, tok, corpusSeed: 5);
        for (int i = 0; i < 3; i++) first.TrainStep();
        string path = Path.Combine(Path.GetTempPath(), $"frugal-init-{Guid.NewGuid():N}.gguf");
        try
        {
            GgufExport.Write(first.Weights, tok, "tiny", path);
            var saved = GgufExport.Load(path, config.Shape).Values;
            var second = new Trainer(config with { Init = path }, tok, corpusSeed: 6);
            Assert.Equal(saved, second.Weights.Values);
            Assert.NotEqual(new Trainer(config, tok, corpusSeed: 6).Weights.Values, second.Weights.Values);
            double loss = second.TrainStep();
            Assert.True(double.IsFinite(loss) && loss < Math.Log(tok.VocabSize), $"a step from the saved model has loss {loss:F3}");
            var wider = config with { Shape = config.Shape with { Dim = 64 }, Init = path };
            var error = Assert.Throws<ArgumentException>(() => new Trainer(wider, tok, corpusSeed: 6));
            Assert.Contains(path, error.Message);
            Assert.Throws<FileNotFoundException>(() => new Trainer(config with { Init = path + ".missing" }, tok, corpusSeed: 6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Learning_rate_warms_up_then_decays_to_the_minimum()
    {
        var config = TrainConfig.MainModel(1000);
        Assert.Equal(config.LearningRate / config.WarmupSteps, config.LearningRateAt(0), 6);
        Assert.Equal(config.LearningRate, config.LearningRateAt(config.WarmupSteps), 6);
        Assert.Equal(config.MinLearningRate, config.LearningRateAt(config.Steps), 6);
    }

    [Fact]
    public void The_built_in_recipes_are_the_shipped_configs()
    {
        var tok = BpeTokenizer.Load(Path.Combine(ShippedModels.Directory, "tokenizer.json"));
        foreach (var (name, config) in new[]
                 {
                     ("frugal-main-base", TrainConfig.MainBaseModel(tok.VocabSize)), ("frugal-main", TrainConfig.MainModel(tok.VocabSize)),
                     ("frugal-draft", TrainConfig.DraftModel(tok.VocabSize)),
                 })
        {
            string file = Path.Combine(ShippedModels.Directory, name + ".config.json");
            var shipped = TrainConfig.FromJson(File.ReadAllText(file), file);
            Assert.Equal(shipped.ToJson(), config.ToJson());
        }
    }
}
