package audio

import (
	"math"
	"testing"
)

// A tone above the 4 kHz output Nyquist frequency must be filtered out, not
// folded into the passband; a passband tone keeps its level.
func TestResampleAntiAliasing(t *testing.T) {
	tests := []struct {
		name        string
		inRate      int
		freq        float64
		aliasFreq   float64 // where the tone lands in the 8 kHz output
		wantMaxGain float64 // dB; the level must be at most this
		wantMinGain float64 // dB; and at least this
	}{
		{"48k 6kHz aliases to 2kHz", 48000, 6000, 2000, -30, math.Inf(-1)},
		{"44.1k 5kHz aliases to 3kHz", 44100, 5000, 3000, -30, math.Inf(-1)},
		{"48k 4.6kHz aliases to 3.4kHz", 48000, 4600, 3400, -30, math.Inf(-1)},
		{"48k 1kHz passes", 48000, 1000, 1000, 1, -1},
		{"44.1k 1kHz passes", 44100, 1000, 1000, 1, -1},
		{"44.1k 3kHz passes", 44100, 3000, 3000, 1, -1},
		{"16k 300Hz passes", 16000, 300, 300, 1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const amp = 0.5
			in := sinePCM(tc.inRate, tc.freq, amp, tc.inRate/2) // 0.5 s
			out := Resample(in, 8000)
			if out.Rate != 8000 || len(out.Samples) != 4000 {
				t.Fatalf("got %d samples at %d Hz, want 4000 at 8000", len(out.Samples), out.Rate)
			}
			// 3200 samples (0.4 s, whole periods of every tested frequency),
			// skipping the filter's edge transient.
			gain := dB(toneLevel(t, out.Samples, 8000, tc.aliasFreq, 400, 3200) / amp)
			t.Logf("level at %v Hz: %.2f dB", tc.aliasFreq, gain)
			if gain > tc.wantMaxGain || gain < tc.wantMinGain {
				t.Errorf("level %.2f dB, want in [%v, %v]", gain, tc.wantMinGain, tc.wantMaxGain)
			}
		})
	}
}

// The measurement itself detects aliasing: plain decimation (every 6th
// sample, no filter) folds 6 kHz at 48 kHz onto 2 kHz at full level.
func TestGoertzelSeesNaiveDecimationAlias(t *testing.T) {
	in := sinePCM(48000, 6000, 0.5, 24000)
	out := make([]int16, 0, 4000)
	for i := 0; i < len(in.Samples); i += 6 {
		out = append(out, in.Samples[i])
	}
	if g := dB(toneLevel(t, out, 8000, 2000, 400, 3200) / 0.5); math.Abs(g) > 3.5 {
		t.Errorf("naive decimation alias level %.2f dB, want about 0", g)
	}
}

func TestResampleLengthAndEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		in      PCM
		rate    int
		wantLen int
	}{
		{"44.1k one second", PCM{Rate: 44100, Samples: make([]int16, 44100)}, 8000, 8000},
		{"48k odd length", PCM{Rate: 48000, Samples: make([]int16, 4801)}, 8000, 800},
		{"same rate copies", PCM{Rate: 8000, Samples: []int16{1, 2, 3}}, 8000, 3},
		{"upsample", PCM{Rate: 8000, Samples: make([]int16, 800)}, 16000, 1600},
		{"awkward ratio", PCM{Rate: 44100, Samples: make([]int16, 441)}, 7999, 79},
		{"empty", PCM{Rate: 44100}, 8000, 0},
		{"zero input rate", PCM{Samples: []int16{1}}, 8000, 0},
		{"zero output rate", PCM{Rate: 8000, Samples: []int16{1}}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := Resample(tc.in, tc.rate)
			if out.Rate != tc.rate || len(out.Samples) != tc.wantLen {
				t.Errorf("got %d samples at %d Hz, want %d at %d", len(out.Samples), out.Rate, tc.wantLen, tc.rate)
			}
		})
	}
	in := PCM{Rate: 8000, Samples: []int16{1, 2, 3}}
	out := Resample(in, 8000)
	out.Samples[0] = 99
	if in.Samples[0] != 1 {
		t.Error("same-rate Resample shares the input slice")
	}
}

// Upsampling keeps a passband tone's level, and full-scale input saturates
// instead of wrapping around.
func TestResampleUpsampleAndClipping(t *testing.T) {
	in := sinePCM(8000, 1000, 0.5, 8000)
	out := Resample(in, 16000)
	if g := dB(toneLevel(t, out.Samples, 16000, 1000, 800, 12800) / 0.5); math.Abs(g) > 0.1 {
		t.Errorf("8k→16k 1 kHz level %.3f dB, want ±0.1", g)
	}
	square := PCM{Rate: 48000, Samples: make([]int16, 4800)}
	for i := range square.Samples {
		square.Samples[i] = math.MaxInt16
		if (i/24)%2 == 1 {
			square.Samples[i] = math.MinInt16
		}
	}
	// The band-limited square wave overshoots (Gibbs); it must clamp.
	res := Resample(square, 8000)
	for i := 1; i < len(res.Samples); i++ {
		a, b := int(res.Samples[i-1]), int(res.Samples[i])
		if abs(a-b) > 50000 && (a > 0) == (b > 0) {
			t.Fatalf("wrap-around at %d: %d then %d", i, a, b)
		}
	}
	if peak(res.Samples) < 0.99 {
		t.Errorf("peak %.3f, expected the overshoot to saturate near full scale", peak(res.Samples))
	}
}
