using System.Runtime.InteropServices;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Native, line-aligned (2 MB-aligned from 2 MB up) memory holding a weight matrix in a kernel layout (outside the GC heap: it is large,
/// long-lived and read by SIMD loads that want line alignment). Freed on dispose or, failing that, by the finalizer.
/// </summary>
internal sealed unsafe class KernelLayoutBuffer : SafeHandle
{
    public KernelLayoutBuffer(long bytes) : base(IntPtr.Zero, ownsHandle: true)
    {
        Bytes = bytes;
        SetHandle((nint)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 64), (nuint)(bytes >= HugePage ? HugePage : 64)));
        // Transparent huge pages where the kernel grants them on request (THP "madvise" mode), meant to spare TLB misses
        // while decode streams the copy (not measured on its own). On the dev VM load time is the first touch of fresh
        // memory either way (~300 MB/s with 4 KB or 2 MB pages; the repack loop itself runs at ~3 GB/s).
        if (OperatingSystem.IsLinux() && bytes >= HugePage)
            _ = Madvise(handle, (nuint)bytes, 14 /* MADV_HUGEPAGE */);
        GC.AddMemoryPressure(bytes);
    }

    public long Bytes { get; }

    private const int HugePage = 2 << 20;

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint addr, nuint length, int advice);

    public byte* Pointer => (byte*)handle;

    public nint Address => handle;

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        GC.RemoveMemoryPressure(Bytes);
        return true;
    }
}
