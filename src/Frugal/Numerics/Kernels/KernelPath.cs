using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>The instruction-set paths every kernel comes in; <see cref="Scalar"/> is the test oracle of the others.</summary>
public enum KernelPath
{
    Scalar,

    /// <summary>Portable 128-bit vectors (SSE on x86, NEON on ARM, with ARM's sdot where present).</summary>
    Vector128,

    /// <summary>256-bit AVX2: vpmaddubsw + vpmaddwd integer dots.</summary>
    Avx2,

    /// <summary>512-bit AVX-512BW: vpmaddubsw + vpmaddwd on zmm (.NET 10 exposes no 512-bit vpdpbusd).</summary>
    Avx512,
}

/// <summary>The one place that decides which kernel path this machine runs, checked once.</summary>
public static class KernelDispatch
{
    /// <summary>The fastest path this process supports (honours DOTNET_EnableAVX512F=0 / DOTNET_EnableAVX2=0).</summary>
    public static KernelPath Best { get; } = IsSupported(KernelPath.Avx512) ? KernelPath.Avx512
        : IsSupported(KernelPath.Avx2) ? KernelPath.Avx2
        : IsSupported(KernelPath.Vector128) ? KernelPath.Vector128
        : KernelPath.Scalar;

    /// <summary>Every path that can run here, slowest first (tests force each in turn).</summary>
    public static IReadOnlyList<KernelPath> Supported { get; } =
        Enum.GetValues<KernelPath>().Where(IsSupported).ToArray();

    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Vector128 => Vector128.IsHardwareAccelerated,
        KernelPath.Avx2 => Avx2.IsSupported,
        KernelPath.Avx512 => Avx512BW.IsSupported && Avx512F.IsSupported && Vector512.IsHardwareAccelerated,
        _ => false,
    };
}
