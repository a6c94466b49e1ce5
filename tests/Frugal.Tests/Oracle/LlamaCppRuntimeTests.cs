namespace Frugal.Tests.Oracle;

public class LlamaCppRuntimeTests
{
    [Fact]
    public void Oracle_native_library_loads_from_the_test_output()
    {
        string dir = LlamaCppRuntime.NativeDirectory;
        Assert.True(File.Exists(Path.Combine(dir, "libggml-base.so")), dir);
    }
}
