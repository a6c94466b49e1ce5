using Frugal.Train.Bpe;
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
        foreach (var (name, config) in new[] { ("frugal-main", TrainConfig.MainModel(tok.VocabSize)), ("frugal-draft", TrainConfig.DraftModel(tok.VocabSize)) })
        {
            string file = Path.Combine(ShippedModels.Directory, name + ".config.json");
            var shipped = TrainConfig.FromJson(File.ReadAllText(file), file);
            Assert.Equal(shipped.ToJson(), config.ToJson());
        }
    }
}
