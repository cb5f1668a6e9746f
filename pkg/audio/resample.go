package audio

import "math"

// Resampling filter.
//
// Resample evaluates a band-limited interpolator at every output instant
// t = n·inRate/outRate (in input samples):
//
//	y[n] = Σ_k x[k] · h(t − k)
//	h(u) = 2fc · sinc(2fc·u) · kaiser(u / W),  |u| < W
//
// fc is the cut-off in cycles per input sample, set to cutoffFraction (0.9)
// of the lower of the two Nyquist frequencies: 3.6 kHz when producing
// 8 kHz, so the whole telephone band (300–3400 Hz) passes. The kernel
// spans zeroCrossings (24) zero crossings of the sinc on each side
// (W = 24 / 2fc input samples: 160 taps a side from 48 kHz) and is shaped
// by a Kaiser window with β = 8.0, giving roughly 80 dB of stop-band
// rejection with the transition band between about 3.2 and 4.0 kHz at an
// 8 kHz output. Anything at or above the output Nyquist frequency is thus
// removed before decimation instead of aliasing into the passband. Each
// filter phase is normalised to unity DC gain. The filter is linear phase
// and centred on t, so the output has no delay.
//
// The fractional position t−⌊t⌋ is exact when outRate/gcd(inRate,
// outRate) ≤ maxPhases (e.g. 80 phases for 44.1 kHz → 8 kHz, 1 for
// 48 kHz → 8 kHz) and otherwise rounded to 1/maxPhases of a sample.
const (
	cutoffFraction = 0.9
	zeroCrossings  = 24
	kaiserBeta     = 8.0
	maxPhases      = 1024
)

// Resample converts p to rate samples per second with the windowed-sinc
// low-pass described above. The output has ⌊len·rate/p.Rate⌋ samples.
// A p already at rate is returned as a copy. rate or p.Rate ≤ 0 yields
// an empty PCM at rate.
func Resample(p PCM, rate int) PCM {
	if rate <= 0 || p.Rate <= 0 || len(p.Samples) == 0 {
		return PCM{Rate: rate}
	}
	if rate == p.Rate {
		return PCM{Rate: rate, Samples: append([]int16(nil), p.Samples...)}
	}
	in, out := int64(p.Rate), int64(rate)
	bank := newFilterBank(p.Rate, rate)
	n := int64(len(p.Samples)) * out / in
	res := make([]int16, n)
	for i := range res {
		pos := int64(i) * in // output instant, in units of 1/out input samples
		idx, rem := pos/out, pos%out
		phase := (rem*int64(bank.phases) + out/2) / out
		if phase == int64(bank.phases) {
			idx, phase = idx+1, 0
		}
		res[i] = clamp16(bank.apply(p.Samples, int(idx), int(phase)))
	}
	return PCM{Rate: rate, Samples: res}
}

// filterBank holds the kernel sampled at every fractional phase.
// taps[ph][j] is the weight of input sample idx − half + 1 + j for an
// output instant at idx + ph/phases.
type filterBank struct {
	phases int
	half   int
	taps   [][]float64
}

func newFilterBank(inRate, outRate int) *filterBank {
	fc := cutoffFraction * 0.5 * float64(min(inRate, outRate)) / float64(inRate)
	width := zeroCrossings / (2 * fc) // W, in input samples
	half := int(math.Ceil(width))
	phases := outRate / gcd(inRate, outRate)
	if phases > maxPhases {
		phases = maxPhases
	}
	b := &filterBank{phases: phases, half: half, taps: make([][]float64, phases)}
	i0beta := besselI0(kaiserBeta)
	for ph := range phases {
		frac := float64(ph) / float64(phases)
		t := make([]float64, 2*half)
		var sum float64
		for j := range t {
			u := frac + float64(half-1-j) // t − k
			if math.Abs(u) >= width {
				continue
			}
			r := u / width
			w := besselI0(kaiserBeta*math.Sqrt(1-r*r)) / i0beta
			t[j] = 2 * fc * sinc(2*fc*u) * w
			sum += t[j]
		}
		for j := range t {
			t[j] /= sum
		}
		b.taps[ph] = t
	}
	return b
}

// apply computes one output sample at input position idx + phase/phases;
// samples outside x count as silence.
func (b *filterBank) apply(x []int16, idx, phase int) float64 {
	t := b.taps[phase]
	first := idx - b.half + 1
	lo, hi := 0, len(t)
	if first < 0 {
		lo = -first
	}
	if first+hi > len(x) {
		hi = len(x) - first
	}
	var acc float64
	for j := lo; j < hi; j++ {
		acc += t[j] * float64(x[first+j])
	}
	return acc
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// by its power series (converges quickly for the arguments used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 64; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
