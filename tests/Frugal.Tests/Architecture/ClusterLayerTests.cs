using System.Text.RegularExpressions;

namespace Frugal.Tests.Architecture;

/// <summary>DESIGN's Cluster layer sits on Server and Inference; nothing below it knows it (or Orleans) exists.</summary>
public class ClusterLayerTests
{
    [Fact]
    public void Cluster_uses_Server_and_the_library_and_nothing_below_uses_Cluster_or_Orleans()
    {
        string root = LayerDirectionTests.RepoRoot();
        string References(string project) => string.Join(",", Regex.Matches(File.ReadAllText(Path.Combine(root, "src", project, project + ".csproj")),
            @"<(?:ProjectReference|PackageReference) Include=""([^""]+)""").Select(m => m.Groups[1].Value).Select(v => v.EndsWith(".csproj", StringComparison.Ordinal) ? Path.GetFileNameWithoutExtension(v.Replace('\\', '/')) : v));
        Assert.Equal("Microsoft.Orleans.Server,Microsoft.Orleans.Sdk,Microsoft.Orleans.Clustering.Redis,StackExchange.Redis,Frugal,Frugal.Server", References("Frugal.Cluster"));
        foreach (var lower in new[] { "Frugal", "Frugal.Server" })
        {
            Assert.DoesNotContain("Cluster", References(lower));
            Assert.DoesNotContain("Orleans", References(lower));
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src", lower), "*.cs", SearchOption.AllDirectories))
                Assert.False(Regex.IsMatch(File.ReadAllText(file), @"\busing (Frugal\.Cluster|Orleans)\b"), $"{file} uses the Cluster layer or Orleans");
        }
    }
}
