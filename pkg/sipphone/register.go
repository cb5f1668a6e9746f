package sipphone

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// ErrRegister wraps a REGISTER that did not end in 200 OK.
var ErrRegister = errors.New("register failed")

// registration keeps the dialog-like state of one account's REGISTERs
// (same Call-ID, growing CSeq) as RFC 3261 section 10.2 asks.
type registration struct {
	ep        *endpoint
	registrar sip.Uri
	account   OperatorAccount
	callID    string
	cseq      uint32
	fromTag   string
}

func newRegistration(ep *endpoint, registrar sip.Uri, acc OperatorAccount) *registration {
	return &registration{ep: ep, registrar: registrar, account: acc, callID: uuid.NewString(), cseq: 1, fromTag: sip.GenerateTagN(16)}
}

// register sends REGISTER with the given Expires, answering one digest
// challenge, and returns the expiry the registrar granted.
func (r *registration) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	aor := sip.Uri{Scheme: "sip", User: r.account.User, Host: r.registrar.Host}
	req := sip.NewRequest(sip.REGISTER, r.registrar)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	to := &sip.ToHeader{Address: aor, Params: sip.NewParams()}
	callID := sip.CallIDHeader(r.callID)
	contact := r.ep.contact(r.account.User)
	secs := int(expires / time.Second)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(secs)))
	if r.ep.transport == "tcp" {
		req.SetTransport("TCP")
	}
	res, err := r.ep.cli.Do(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return 0, fmt.Errorf("REGISTER %s: %w", r.account.User, err)
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		res, err = r.ep.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: r.account.User, Password: r.account.Password})
		if err != nil {
			return 0, fmt.Errorf("REGISTER %s with digest: %w", r.account.User, err)
		}
	}
	r.cseq = req.CSeq().SeqNo + 1
	if res.StatusCode != sip.StatusOK {
		return 0, fmt.Errorf("%w: %s: %d %s", ErrRegister, r.account.User, res.StatusCode, res.Reason)
	}
	return grantedExpiry(res, expires), nil
}

// grantedExpiry reads the Expires header (or Contact expires parameter) of
// a 200 OK, falling back to what was asked for.
func grantedExpiry(res *sip.Response, asked time.Duration) time.Duration {
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	if c := res.Contact(); c != nil {
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return asked
}

// refreshAfter is when to re-REGISTER: half the granted expiry, at least 1 s.
func refreshAfter(granted time.Duration) time.Duration {
	return max(granted/2, time.Second)
}
