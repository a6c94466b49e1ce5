using BenchmarkDotNet.Running;

// Usage: dotnet run -c Release --project bench/Frugal.Bench.Micro -- [BenchmarkDotNet args, e.g. --filter '*' --job short]
BenchmarkSwitcher.FromAssembly(typeof(Frugal.Bench.Micro.MatMulBenchmarks).Assembly).Run(args);
