package phone

import (
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Reasons DIDFromAddress gives.
const (
	reasonAddress    = "it is not a SIP address (want <sip:0312345678@host>)"
	reasonNoUser     = "its URI has no user part, so no dialled number"
	reasonUserNotDID = "its user part is not a dialled number (an extension or account id?)"
)

// DIDFromAddress reads the dialled number from the value of a SIP address
// header, as Asterisk's PJSIP_HEADER(read,To) gives it:
// `<sip:0312345678@192.168.1.1>`, `"x" <sip:+81312345678@host;user=phone>;tag=1`,
// `sip:0312345678@host` or `<tel:+81-3-1234-5678>`. Some gateways, an NTT
// ひかり電話 home gateway among them, put the number a caller dialled there
// and an extension in the Request-URI. The result is the number as the
// gateway wrote it, less a tel: URI's visual separators; it is one
// NormalizeDID accepts, or the error says why not.
func DIDFromAddress(value string) (string, error) {
	var u sip.Uri
	params := sip.NewParams()
	if _, err := sip.ParseAddressValue(strings.TrimSpace(value), &u, &params); err != nil {
		return "", &NumberError{Input: value, Reason: reasonAddress}
	}
	var user string
	switch u.Scheme {
	case "sip", "sips":
		user = u.User
	case "tel":
		user = u.Raw()
	default:
		return "", &NumberError{Input: value, Reason: reasonAddress}
	}
	// User parameters (";npdi", ";rn=…", a tel: URI's ";phone-context=…")
	// are not part of the number.
	user, _, _ = strings.Cut(user, ";")
	if strings.Contains(user, "%") {
		// "%2B81…": an escaped '+' (RFC 3261 19.1.2).
		if un, err := url.PathUnescape(user); err == nil {
			user = un
		}
	}
	if u.Scheme == "tel" || strings.EqualFold(u.UriParams.GetOr("user", ""), "phone") {
		// RFC 3966 visual separators (also in a SIP URI's
		// telephone-subscriber, user=phone).
		user = strings.Map(func(r rune) rune {
			if strings.ContainsRune("-.()", r) {
				return -1
			}
			return r
		}, user)
	}
	if user == "" {
		return "", &NumberError{Input: value, Reason: reasonNoUser}
	}
	if _, err := NormalizeDID(user); err != nil || strings.TrimSpace(user) != user {
		return "", &NumberError{Input: value, Reason: reasonUserNotDID}
	}
	return user, nil
}
