using Frugal.Evaluation;
using Frugal.Train.Bpe;

namespace Frugal.Tests.Training;

public class RecallDistanceTests
{
    [Fact]
    public void Held_out_recall_keys_are_400_plus_shipped_tokens_back_and_fit_the_512_context()
    {
        var tok = BpeTokenizer.Load(Path.Combine(ShippedModels.Directory, "tokenizer.json"));
        foreach (var item in HeldOutSets.Items(EvalTask.Recall, 100))
        {
            int total = 1 + tok.Encode(item.Prompt).Count;                                   // BOS + prompt
            int keyEnd = 1 + tok.Encode(item.Prompt[..(item.Prompt.IndexOf('.') + 1)]).Count; // BOS + opening fact
            Assert.True(total - keyEnd >= 400, $"key only {total - keyEnd} tokens back");
            Assert.True(total + tok.Encode(item.Expected).Count + 1 <= 512, $"item needs {total} tokens");
        }
    }
}
