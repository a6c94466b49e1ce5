namespace Frugal.Numerics.Quant;

/// <summary>Length checks shared by the block codecs: validated once at the entry, so the loops run without checks.</summary>
internal static class QuantChecks
{
    public static void Lengths(int blocks, int elementsPerBlock, int floats)
    {
        if ((long)blocks * elementsPerBlock != floats)
            throw new ArgumentException(
                $"{blocks} blocks of {elementsPerBlock} elements hold {(long)blocks * elementsPerBlock} floats, but the float span has {floats}");
    }
}
