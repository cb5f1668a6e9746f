package main

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/audio"
	"github.com/toritsugi/toritsugi/pkg/config"
)

// checkSounds checks that the clients' own sound: media (those in a
// directory, like sound:toritsugi/acme-greeting) exist in SoundsDir as
// files Asterisk plays, for the features each client uses, and that the
// core prompts the configuration names (sound:beep, the answer's
// sound:silence/1) are in one of Asterisk's language directories
// (en, ja) or SoundsDir itself, in any format: a source build without its
// core sounds plays silence for them. An empty SoundsDir is not checked.
func checkSounds(cfg *config.Config) []error {
	if cfg.SoundsDir == "" {
		return nil
	}
	var errs []error
	seen := map[string]bool{}
	core := func(what, media string) {
		name, ok := strings.CutPrefix(media, "sound:")
		if !ok || seen[name] {
			return
		}
		seen[name] = true
		for _, lang := range []string{"en", "ja", ""} {
			if found, _ := filepath.Glob(filepath.Join(cfg.SoundsDir, lang, name+".*")); len(found) > 0 {
				return
			}
		}
		errs = append(errs, fmt.Errorf("%s %s: Asterisk's core prompt %q is not in %s/en (nor ja): install Asterisk's English core sounds there (README, With your own Asterisk)", what, media, name, cfg.SoundsDir))
	}
	core("unknown_did_sound", cfg.UnknownDIDSound)
	core("answer_silence", cfg.AnswerSilence)
	for _, c := range cfg.Clients {
		used := map[string]string{
			"greeting": c.Greeting, "whisper_sound": c.WhisperSound, "overflow_sound": c.OverflowSound,
			"blocked_sound": c.BlockedSound,
		}
		if c.Hours.Location != nil && !c.Hours.AlwaysOpen {
			used["after_hours_sound"] = c.AfterHoursSound
		}
		if c.Record {
			used["record_announcement"] = c.RecordAnnouncement
		}
		if c.BlockWithheld {
			used["withheld_sound"] = c.WithheldSound
		}
		if c.TransferTo != "" {
			used["transfer_whisper"] = c.TransferWhisper
			for i, r := range c.Callers {
				if r.Whisper != "" {
					used[fmt.Sprintf("callers[%d].whisper", i)] = r.Whisper
				}
			}
		}
		if c.Overflow == config.OverflowVoicemail || c.AfterHoursVoicemail {
			used["voicemail_prompt"] = c.VoicemailPrompt
		}
		if c.Overflow == config.OverflowCallback {
			used["callback_prompt"], used["callback_thanks"] = c.CallbackPrompt, c.CallbackThanks
			used["callback_enter_prompt"], used["callback_goodbye"] = c.CallbackEnterPrompt, c.CallbackGoodbye
			used["callback_after_number"] = c.CallbackAfterNumber
		}
		for _, key := range slices.Sorted(maps.Keys(used)) {
			media := used[key]
			name, ok := strings.CutPrefix(media, "sound:")
			if ok && !strings.Contains(name, "/") {
				core("client "+c.ID+" "+key, media)
				continue
			}
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			if err := audio.Validate(filepath.Join(cfg.SoundsDir, name)); err != nil {
				errs = append(errs, fmt.Errorf("client %s %s %s: %w", c.ID, key, media, err))
			}
		}
	}
	return errs
}
