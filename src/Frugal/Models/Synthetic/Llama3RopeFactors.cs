namespace Frugal.Models.Synthetic;

/// <summary>
/// The rope_freqs.weight values llama.cpp's converter writes for Llama 3.1 "llama3" rope scaling: high
/// frequencies are kept, low frequencies divided by the factor, and the band between blended smoothly.
/// </summary>
public static class Llama3RopeFactors
{
    /// <summary>[ropeDims/2] divisors of the base RoPE frequencies.</summary>
    public static float[] Compute(Llama3RopeScaling s, int ropeDims, float freqBase)
    {
        if (ropeDims <= 0 || ropeDims % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(ropeDims), $"rope dimension count must be positive and even, got {ropeDims}");
        double lowFreqWavelen = s.OriginalContextLength / s.LowFreqFactor;
        double highFreqWavelen = s.OriginalContextLength / s.HighFreqFactor;
        var factors = new float[ropeDims / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            double freq = 1.0 / Math.Pow(freqBase, 2.0 * i / ropeDims);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highFreqWavelen)
                factors[i] = 1f;
            else if (wavelen > lowFreqWavelen)
                factors[i] = s.Factor;
            else
            {
                double smooth = (s.OriginalContextLength / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                factors[i] = (float)(1.0 / ((1 - smooth) / s.Factor + smooth));
            }
        }
        return factors;
    }
}
