using Frugal.Evaluation;
using Frugal.Gguf;
using Frugal.Models;
using Frugal.Tests.Training;
using Frugal.Tokenization;
using Frugal.Train.Bpe;

namespace Frugal.Tests.Evaluation;

/// <summary>The one recall filter that the trainer's eval and <c>frugal eval</c> share.</summary>
public class RecallDistanceFilterTests
{
    private static int Chars(string text) => text.Length; // one "token" per character: distances are countable by eye

    [Fact]
    public void Key_distance_counts_the_tokens_after_the_opening_fact()
    {
        var item = new EvalItem("The code for Anna is 4821. Tom ran.\nWhat is the code for Anna?", " 4821");
        Assert.Equal(" Tom ran.\nWhat is the code for Anna?".Length, RecallDistance.KeyDistance(item, Chars));
        Assert.Throws<ArgumentException>(() => RecallDistance.KeyDistance(new EvalItem("no sentence here", " 1"), Chars));
    }

    [Theory]
    [InlineData(399, 1000, false)] // key too close
    [InlineData(400, 1000, true)]
    [InlineData(400, 26 + 400 + 1 + RecallDistance.AnswerRoom, true)]  // BOS + fact + filler + answer room exactly fill the context
    [InlineData(400, 26 + 400 + 1 + RecallDistance.AnswerRoom - 1, false)] // one position short
    public void Filter_wants_the_key_400_back_and_the_item_inside_the_context(int distance, int context, bool accepted)
    {
        const string fact = "The code for Anna is 4821."; // 26 characters
        var item = new EvalItem(fact + new string('x', distance), " 4821");
        Assert.Equal(accepted, RecallDistance.Filter(Chars, context)(item));
    }

    [Fact]
    public void Engine_tokenizer_selects_the_same_recall_items_as_the_trainers_tokenizer()
    {
        string path = Path.Combine(ShippedModels.Directory, "frugal-main.gguf");
        var bpe = BpeTokenizer.Load(Path.Combine(ShippedModels.Directory, "tokenizer.json"));
        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file);
        var engineItems = new GreedyTaskEvaluator(model, Tokenizer.FromGguf(file)).HeldOutItems(EvalTask.Recall, 10);
        var trainerItems = HeldOutSets.Items(EvalTask.Recall, 10, accept: RecallDistance.Filter(t => bpe.Encode(t).Count, model.Config.ContextLength));
        Assert.Equal(trainerItems, engineItems);
    }
}
