package controller_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// channelPlays lists what each POST /channels/{id}/play of call id
// played, in order, its media joined by "+".
func channelPlays(h *harness, id string) []string {
	var out []string
	for _, r := range h.fake.Requests() {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Path, "/channels/"+id+"/play") {
			continue
		}
		var b struct {
			Media []string `json:"media"`
		}
		_ = json.Unmarshal([]byte(r.Body), &b)
		out = append(out, strings.Join(b.Media, "+"))
	}
	return out
}

// countPlays counts the plays of call id whose media contain media.
func countPlays(h *harness, id, media string) int {
	n := 0
	for _, p := range channelPlays(h, id) {
		if strings.Contains(p, media) {
			n++
		}
	}
	return n
}

// callbackEntryHarness: callbackHarness whose client asks for a number to
// be keyed.
func callbackEntryHarness(t *testing.T) *harness {
	t.Helper()
	h := overflowHarness(t, `
    overflow: callback
    callback_prompt: sound:toritsugi/callback-offer
    callback_enter_prompt: sound:toritsugi/callback-enter`)
	for _, s := range []string{"vm-nobodyavail", "toritsugi/callback-thanks", "vm-goodbye"} {
		h.fake.AddSound(s, time.Second)
	}
	h.fake.AddSound("toritsugi/callback-offer", 30*time.Second)
	h.fake.AddSound("toritsugi/callback-enter", 30*time.Second)
	return h
}

// keys sends the caller's digits one by one.
func (h *harness) keys(id, digits string) {
	h.t.Helper()
	for _, d := range strings.Split(digits, "") {
		if err := h.fake.SendDTMF(id, d); err != nil {
			h.t.Fatal(err)
		}
	}
}

// TestCallbackOfferRepeatedThenGoodbye: a caller who presses nothing was
// hung up after hearing the offer once, nothing said. The offer is made
// again once; then the client's goodbye, and the hang-up: no request.
func TestCallbackOfferRepeatedThenGoodbye(t *testing.T) {
	h := callbackHarness(t)
	h.fake.AddSound("vm-goodbye", time.Second)
	h.confirmWait = 200 * time.Millisecond
	h.start()
	id := h.call("0312345678", "09012345678")
	rec := h.record(id)
	p := channelPlays(h, id)
	if n := countPlays(h, id, "digits:09012345678"); n != 2 || !strings.Contains(p[len(p)-1], "sound:vm-goodbye") {
		t.Fatalf("offers %d, plays %v; want the offer twice, then the goodbye", n, p)
	}
	if _, err := h.store.Callback(id); err == nil || rec.Result != store.ResultOverflow || !strings.Contains(fmt.Sprint(rec.Events), "callback declined (no answer)") {
		t.Fatalf("%s (%s), events %v; want the overflow, declined, nothing stored", rec.Result, rec.Reason, rec.Events)
	}
}

// TestCallbackOtherKeyHearsTheOfferAgain: '#' (確定 in many Japanese IVRs)
// was dropped without a word; it brings the offer again, whose 1 stores
// the request.
func TestCallbackOtherKeyHearsTheOfferAgain(t *testing.T) {
	h := callbackHarness(t)
	h.start()
	id := h.call("0312345678", "09012345678")
	h.waitOffered("09012345678")
	h.keys(id, "#")
	h.eventually("the offer made again", func() bool { return countPlays(h, id, "digits:09012345678") == 2 })
	h.keys(id, "1")
	rec := h.record(id)
	if cb, err := h.store.Callback(id); err != nil || cb.Number != "+819012345678" || rec.Reason != "overflow: callback requested" {
		t.Fatalf("callback %+v, %v; %s (%s)", cb, err, rec.Result, rec.Reason)
	}
}

// TestCallbackDeclineSaysGoodbye: 2, with no number to be keyed, declines:
// the goodbye, then the hang-up (nothing was said before).
func TestCallbackDeclineSaysGoodbye(t *testing.T) {
	h := callbackHarness(t)
	h.fake.AddSound("vm-goodbye", time.Second)
	h.start()
	id := h.call("0312345678", "09012345678")
	h.waitOffered("09012345678")
	h.keys(id, "2")
	rec := h.record(id)
	if p := channelPlays(h, id); !strings.Contains(p[len(p)-1], "sound:vm-goodbye") || countPlays(h, id, "digits:") != 1 {
		t.Fatalf("plays %v; want the offer once, then the goodbye", p)
	}
	if _, err := h.store.Callback(id); err == nil || !strings.Contains(fmt.Sprint(rec.Events), "callback declined") {
		t.Fatalf("events %v; want declined, nothing stored", rec.Events)
	}
}

// TestCallbackKeyedNumber: a caller on an office line that shows its main
// number presses 2 and keys their own, ended by #; it is read back, and
// their 1 stores it. Before, 2 hung up on them.
func TestCallbackKeyedNumber(t *testing.T) {
	h := callbackEntryHarness(t)
	h.start()
	id := h.call("0312345678", "0312340000")
	h.waitOffered("0312340000")
	h.keys(id, "2")
	h.eventually("asked for a number", func() bool { return countPlays(h, id, "toritsugi/callback-enter") == 1 })
	h.keys(id, "0398765432#")
	h.waitOffered("0398765432")
	h.keys(id, "1")
	rec := h.record(id)
	if cb, err := h.store.Callback(id); err != nil || cb.Number != "+81398765432" || rec.Reason != "overflow: callback requested" {
		t.Fatalf("callback %+v, %v; %s (%s), events %v", cb, err, rec.Result, rec.Reason, rec.Events)
	}
}

// TestCallbackWithheldCallerKeysANumber: a withheld caller (非通知) got the
// plain overflow: no number to call back. With callback_enter_prompt they
// are asked for one; a mobile's 11th digit ends it without #.
func TestCallbackWithheldCallerKeysANumber(t *testing.T) {
	h := callbackEntryHarness(t)
	h.start()
	id := h.call("0312345678", "anonymous")
	h.eventually("asked for a number", func() bool { return countPlays(h, id, "toritsugi/callback-enter") == 1 })
	h.keys(id, "09011112222")
	h.waitOffered("09011112222")
	h.keys(id, "1")
	h.record(id)
	if cb, err := h.store.Callback(id); err != nil || cb.Number != "+819011112222" {
		t.Fatalf("callback %+v, %v", cb, err)
	}
}

// TestRingbackCallerWithNoNumberAskedToKeyOne: a ringback client with no
// overflow message offers callbacks. A caller whose number cannot be
// called back (withheld, a payphone, abroad) is answered at max_wait and
// asked to key one, as any client's is (they were refused unanswered, as
// if the overflow had nothing for them to hear); without
// callback_enter_prompt there is nothing for them, and they are refused
// unanswered.
func TestRingbackCallerWithNoNumberAskedToKeyOne(t *testing.T) {
	const ringback = `
    answer_mode: ringback
    ringback_max: 60s
    overflow_sound: ""
    overflow: callback
    callback_prompt: sound:toritsugi/callback-offer`
	for _, tc := range []struct {
		name, caller, enter string
	}{
		{"withheld", "anonymous", "\n    callback_enter_prompt: sound:toritsugi/callback-enter"},
		{"payphone", "payphone", "\n    callback_enter_prompt: sound:toritsugi/callback-enter"},
		{"abroad", "+12025550123", "\n    callback_enter_prompt: sound:toritsugi/callback-enter"},
		{"withheld, no entry prompt", "anonymous", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := overflowHarness(t, ringback+tc.enter)
			for _, s := range []string{"toritsugi/callback-thanks", "vm-goodbye"} {
				h.fake.AddSound(s, time.Second)
			}
			h.fake.AddSound("toritsugi/callback-offer", 30*time.Second)
			h.fake.AddSound("toritsugi/callback-enter", 30*time.Second)
			h.start()
			id := h.call("0312345678", tc.caller)
			if tc.enter == "" {
				if rec := h.record(id); rec.Result != store.ResultOverflow || !rec.AnsweredAt.IsZero() {
					t.Fatalf("%s (%s) answered at %v; want refused unanswered", rec.Result, rec.Reason, rec.AnsweredAt)
				}
				refusedUnanswered(t, h, id, "no_answer")
				return
			}
			h.eventually("asked for a number", func() bool { return countPlays(h, id, "toritsugi/callback-enter") == 1 })
			h.keys(id, "09011112222#")
			h.waitOffered("09011112222")
			h.keys(id, "1")
			rec := h.record(id)
			if rec.AnsweredAt.IsZero() {
				t.Fatalf("%s (%s): asked for a number unanswered", rec.Result, rec.Reason)
			}
			if cb, err := h.store.Callback(id); err != nil || cb.Number != "+819011112222" {
				t.Fatalf("callback %+v, %v; events %v", cb, err, rec.Events)
			}
		})
	}
}

// TestCallbackKeyedNumberCorrectedAndRefused: * starts the number again; a
// number that is not a Japanese one (too short) is asked for again, once;
// two such end the call with the goodbye, nothing stored.
func TestCallbackKeyedNumberCorrectedAndRefused(t *testing.T) {
	h := callbackEntryHarness(t)
	h.start()
	id := h.call("0312345678", "anonymous")
	h.eventually("asked for a number", func() bool { return countPlays(h, id, "toritsugi/callback-enter") == 1 })
	h.keys(id, "0399*0312349999#")
	h.waitOffered("0312349999")
	h.keys(id, "2")
	h.eventually("asked again", func() bool { return countPlays(h, id, "toritsugi/callback-enter") == 2 })
	h.keys(id, "123#")
	rec := h.record(id)
	if p := channelPlays(h, id); !strings.Contains(p[len(p)-1], "sound:vm-goodbye") || slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, "digits:123") }) {
		t.Fatalf("plays %v; want the goodbye last, 123 never read back", p)
	}
	if _, err := h.store.Callback(id); err == nil || !strings.Contains(fmt.Sprint(rec.Events), "callback declined (no number keyed)") {
		t.Fatalf("events %v; want declined, nothing stored", rec.Events)
	}
}

// TestCallbackNumberBetweenTwoPrompts: callback_after_number plays after
// the number read back, in the one playback (the Japanese order: 「お電話
// 番号は」 090… 「でよろしければ1を」); a 1 during that playback answers.
func TestCallbackNumberBetweenTwoPrompts(t *testing.T) {
	h := overflowHarness(t, `
    overflow: callback
    callback_prompt: sound:toritsugi/callback-number-is
    callback_after_number: sound:toritsugi/callback-press-1`)
	for _, s := range []string{"vm-nobodyavail", "toritsugi/callback-thanks", "toritsugi/callback-number-is"} {
		h.fake.AddSound(s, time.Second)
	}
	h.fake.AddSound("toritsugi/callback-press-1", 30*time.Second)
	h.start()
	id := h.call("0312345678", "09012345678")
	h.eventually("the offer in Japanese order", func() bool {
		return slices.Contains(channelPlays(h, id), "sound:toritsugi/callback-number-is+digits:09012345678+sound:toritsugi/callback-press-1")
	})
	h.keys(id, "1")
	h.record(id)
	if _, err := h.store.Callback(id); err != nil {
		t.Fatalf("the 1 during the prompt after the number: %v", err)
	}
}

// TestCallbackMobileNumberEndedWithHash: the prompt asks for # at the end;
// a mobile's number ends the entry at its 11th digit, and the # that
// follows was taken as a wrong key of the read-back: cut, made again and
// counted as the second offer (a review). It is the number's end.
func TestCallbackMobileNumberEndedWithHash(t *testing.T) {
	h := callbackEntryHarness(t)
	h.start()
	id := h.call("0312345678", "anonymous")
	h.eventually("asked for a number", func() bool { return countPlays(h, id, "toritsugi/callback-enter") == 1 })
	h.keys(id, "09011112222#")
	h.waitOffered("09011112222")
	time.Sleep(300 * time.Millisecond)
	h.keys(id, "1")
	rec := h.record(id)
	if n := countPlays(h, id, "digits:09011112222"); n != 1 || strings.Contains(fmt.Sprint(rec.Events), "not an answer") {
		t.Fatalf("offers of the keyed number %d, events %v; want one offer, the # swallowed", n, rec.Events)
	}
	if cb, err := h.store.Callback(id); err != nil || cb.Number != "+819011112222" {
		t.Fatalf("callback %+v, %v", cb, err)
	}
}

// TestCallbackHashAfterElevenDigitsNotANumber: 11 digits that are no
// Japanese number (a slip: 19011112222), then the # the prompt asked for.
// The # came into the second entry as an empty one, and the call ended
// with the goodbye, the caller's retry lost (a review). It ends the first.
func TestCallbackHashAfterElevenDigitsNotANumber(t *testing.T) {
	h := callbackEntryHarness(t)
	h.start()
	id := h.call("0312345678", "anonymous")
	h.eventually("asked for a number", func() bool { return countPlays(h, id, "toritsugi/callback-enter") == 1 })
	h.keys(id, "19011112222#")
	h.eventually("asked again", func() bool { return countPlays(h, id, "toritsugi/callback-enter") == 2 })
	time.Sleep(300 * time.Millisecond)
	h.keys(id, "09011112222#")
	h.waitOffered("09011112222")
	h.keys(id, "1")
	rec := h.record(id)
	if _, err := h.store.Callback(id); err != nil {
		t.Fatalf("the second entry lost: %v; events %v", err, rec.Events)
	}
}

// TestCallbackNumberAcrossRestart: the number a caller keyed and
// confirmed is on the call's record though the controller restarted
// during the thanks (it lived in memory alone: a review).
func TestCallbackNumberAcrossRestart(t *testing.T) {
	h := callbackEntryHarness(t)
	h.fake.AddSound("toritsugi/callback-thanks", 30*time.Second)
	first := h.start()
	id := h.call("0312345678", "anonymous")
	h.eventually("asked for a number", func() bool { return countPlays(h, id, "toritsugi/callback-enter") == 1 })
	h.keys(id, "0311112222#")
	h.waitOffered("0311112222")
	h.keys(id, "1")
	h.eventually("thanks playing, hang-up step saved", func() bool {
		c, ok := h.fake.Channel(id)
		return ok && countPlays(h, id, "callback-thanks") == 1 && strings.Contains(c.Vars[call.StateVar], "s=hangup")
	})
	first.stop()
	h.start()
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if cb, err := h.store.Callback(id); err != nil || rec.CallbackNumber != "+81311112222" || cb.Number != rec.CallbackNumber {
		t.Fatalf("stored request %+v (%v); the record's callback_number %q", cb, err, rec.CallbackNumber)
	}
}
