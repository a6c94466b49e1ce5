using System.Globalization;
using System.Text.Json;
using Frugal.Evaluation;
using Frugal.Inference.Voting;

namespace Frugal.Bench;

/// <summary>
/// Optional store of sample pools for voting-curves (--pools-dir DIR): a pool set is keyed by the model file (name and
/// length), task, split, item count, temperature, min-p (when on) and seed, so a rerun that only changes how recipes are fitted or
/// reported replays the same samples instead of drawing them again. The live check still runs on the engine.
/// </summary>
internal static class VotingPoolCache
{
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static IReadOnlyList<IReadOnlyList<SampleAnswer>> Get(string? dir, string model, string task, TaskSplit split, int items, float temp, float minP, ulong seed,
        Func<IReadOnlyList<IReadOnlyList<SampleAnswer>>> draw)
    {
        if (dir is null) return draw();
        // "p2": pools store each sample's weakest-token log-probability; older files lack it and are drawn again.
        string key = string.Join("-", "p2", Path.GetFileNameWithoutExtension(model), new FileInfo(model).Length.ToString(CultureInfo.InvariantCulture), task,
            split.ToString().ToLowerInvariant(), items.ToString(CultureInfo.InvariantCulture), "t" + temp.ToString(CultureInfo.InvariantCulture),
            "s" + seed.ToString(CultureInfo.InvariantCulture)) + (minP > 0 ? "-p" + minP.ToString(CultureInfo.InvariantCulture) : "");
        string path = Path.Combine(dir, key + ".json");
        if (File.Exists(path))
        {
            Console.Error.WriteLine($"pools: replaying {path}");
            return JsonSerializer.Deserialize<List<List<SampleAnswer>>>(File.ReadAllText(path), Json)!;
        }
        var pools = draw();
        Directory.CreateDirectory(dir);
        File.WriteAllText(path, JsonSerializer.Serialize(pools, Json));
        return pools;
    }
}
