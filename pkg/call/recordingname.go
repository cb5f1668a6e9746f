package call

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The names of the calls' recordings, made here and read back here: the
// retention deletes a recording no call record names by its name alone.

// recordingTag ends a manager's recordings' names: the deployment id, when
// there is one, and the manager's instance.
func recordingTag(deployment, instance string) string {
	if deployment == "" {
		return instance
	}
	return deployment + "-" + instance
}

// RecordingName is the name of call id's conversation recording (or of its
// voicemail message, vm): the call's id, its dot a dash, "-vm" for a
// message, then tag (the deployment id and the manager's instance,
// "<deployment>-<instance>"). RecordingsOf reads it back.
func RecordingName(id string, vm bool, tag string) string {
	name := strings.ReplaceAll(id, ".", "-")
	if vm {
		name += "-vm"
	}
	return name + "-" + tag
}

// RecordingsOf returns a reader of the names deployment's calls give their
// recordings (RecordingName): made is when the recording's call came (its
// id holds Asterisk's "[system name-]<epoch>.<n>"), ok false for a name
// that is not one of deployment's (another toritsugi's on the same
// Asterisk, one made before names carried the deployment, anything
// else's, one in a subdirectory).
func RecordingsOf(deployment string) func(name string) (made time.Time, ok bool) {
	own := regexp.MustCompile(`^(?:[^/]+-)?([1-9][0-9]{8,10})-[0-9]+(?:-vm)?-` + regexp.QuoteMeta(deployment) + `-[0-9a-f]{8}$`)
	return func(name string) (time.Time, bool) {
		m := own.FindStringSubmatch(name)
		if m == nil {
			return time.Time{}, false
		}
		sec, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(sec, 0), true
	}
}
