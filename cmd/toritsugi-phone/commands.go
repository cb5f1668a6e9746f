package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/toritsugi/toritsugi/pkg/sipphone"
)

type commonFlags struct {
	transport, listen string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.transport, "transport", "udp", "SIP transport: udp or tcp")
	fs.StringVar(&c.listen, "listen", "127.0.0.1:0", "local SIP address")
}

func (c commonFlags) endpoint(log *slog.Logger) sipphone.EndpointConfig {
	return sipphone.EndpointConfig{Transport: c.transport, Listen: c.listen, Log: log}
}

type callFlags struct {
	commonFlags
	to, from, dtmf, user, password, media string
	hold, dtmfDelay, ring                 time.Duration
}

func (c *callFlags) register(fs *flag.FlagSet) {
	c.commonFlags.register(fs)
	fs.StringVar(&c.to, "to", "sip:0312345678@127.0.0.1:5060", "request URI to call")
	fs.StringVar(&c.from, "from", "0901234567", "calling number")
	fs.StringVar(&c.dtmf, "dtmf", "", "RFC 4733 digits to send after answer, e.g. 12#")
	fs.DurationVar(&c.dtmfDelay, "dtmf-delay", 500*time.Millisecond, "wait after answer before DTMF")
	fs.DurationVar(&c.hold, "hold", 10*time.Second, "stay connected this long (0: until BYE)")
	fs.DurationVar(&c.ring, "ring-timeout", 60*time.Second, "CANCEL if not answered by then")
	fs.StringVar(&c.user, "user", "", "digest username")
	fs.StringVar(&c.password, "password", "", "digest password")
	fs.StringVar(&c.media, "media", "silence", "what to send: silence or tone")
}

func (c callFlags) options() sipphone.CallOptions {
	m := sipphone.MediaSilence
	if c.media == "tone" {
		m = sipphone.MediaTone
	}
	return sipphone.CallOptions{To: c.to, From: c.from, DTMF: c.dtmf, DTMFDelay: c.dtmfDelay, Hold: c.hold,
		RingTimeout: c.ring, Username: c.user, Password: c.password, Media: m}
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	}
	return nil
}

func runCall(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f callFlags
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := sipphone.NewCaller(ctx, sipphone.CallerConfig{EndpointConfig: f.endpoint(log)})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(stdout, "calling %s from %s (local %s/%s)\n", f.to, f.from, c.Addr(), f.transport)
	res, err := c.Call(ctx, f.options())
	printCall(stdout, res)
	return err
}

func printCall(w io.Writer, r sipphone.CallResult) {
	d := func(x time.Duration) string {
		if x == 0 {
			return "-"
		}
		return x.Round(100 * time.Microsecond).String()
	}
	fmt.Fprintf(w, "final        %d %s\n", r.StatusCode, r.Reason)
	fmt.Fprintf(w, "INVITE->100  %s\nINVITE->180  %s\nINVITE->200  %s\n200->RTP     %s\n", d(r.Trying), d(r.Ringing), d(r.Answered), d(r.FirstRTP))
	if r.StatusCode/100 == 2 {
		fmt.Fprintf(w, "talk         %s (hung up by %s)\n", d(r.Talk), r.HungUpBy)
		fmt.Fprintf(w, "rtp          sent %d received %d  dtmf sent %q received %q\n", r.Media.Sent, r.Media.Received, r.Media.DTMFSent, r.Media.DTMFReceived)
	}
}

func runOperators(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("operators", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		common                        commonFlags
		registrar, ops, reject, media string
		answerAfter, talk, expires    time.Duration
		holdAfter, holdFor            time.Duration
		noAnswer                      bool
	)
	common.register(fs)
	fs.StringVar(&registrar, "registrar", "127.0.0.1:5060", "PBX registrar host:port")
	fs.StringVar(&ops, "ops", "op1001:secret", "operator accounts user:password,...")
	fs.DurationVar(&answerAfter, "answer-after", 2*time.Second, "ring this long before answering")
	fs.StringVar(&reject, "reject", "none", "reject calls: busy (486), none, or a status code")
	fs.BoolVar(&noAnswer, "no-answer", false, "ring until the caller cancels")
	fs.DurationVar(&talk, "talk", 10*time.Second, "hang up answered calls after this (0: wait for BYE)")
	fs.DurationVar(&holdAfter, "hold-after", 0, "put answered calls on hold this long after the answer (a re-INVITE, a=sendonly; 0: never)")
	fs.DurationVar(&holdFor, "hold-for", 5*time.Second, "take them off hold after this")
	fs.DurationVar(&expires, "expires", 300*time.Second, "registration expiry to ask for")
	fs.StringVar(&media, "media", "echo", "media on answered calls: echo, silence or tone")
	if err := parse(fs, args); err != nil {
		return err
	}
	accounts, err := sipphone.ParseAccounts(ops)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	code, err := rejectCode(reject)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	o, err := sipphone.NewOperatorPhone(ctx, sipphone.OperatorConfig{
		EndpointConfig: common.endpoint(log), Registrar: registrar, Accounts: accounts, Expires: expires,
		AnswerAfter: answerAfter, Reject: code, NoAnswer: noAnswer, Talk: talk, Media: mediaMode(media),
		HoldAfter: holdAfter, HoldFor: holdFor,
		OnEvent: func(ev sipphone.OperatorEvent) {
			mu.Lock()
			defer mu.Unlock()
			printEvent(stdout, ev)
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "operators %d on %s/%s, registrar %s; Ctrl-C to stop\n", len(accounts), o.Addr(), common.transport, registrar)
	err = o.Run(ctx)
	r := o.Report()
	fmt.Fprintf(stdout, "report: registrations %d invites %d answered %d rejected %d canceled %d remote-bye %d local-bye %d rtp-received %d dtmf %q\n",
		r.Registrations, r.Invites, r.Answered, r.Rejected, r.Canceled, r.RemoteBye, r.LocalBye, r.RTPReceived, r.DTMF)
	return err
}

func printEvent(w io.Writer, ev sipphone.OperatorEvent) {
	line := fmt.Sprintf("%s %-8s %-15s", ev.At.Format("15:04:05.000"), ev.User, ev.Kind)
	if ev.CallID != "" {
		line += " call=" + ev.CallID
	}
	if ev.From != "" {
		line += " from=" + ev.From
	}
	if ev.Status != 0 {
		line += " status=" + strconv.Itoa(ev.Status)
	}
	if ev.Kind == "media" {
		line += fmt.Sprintf(" rtp sent=%d received=%d dtmf=%q", ev.Media.Sent, ev.Media.Received, ev.Media.DTMFReceived)
	}
	if ev.Err != nil {
		line += " err=" + ev.Err.Error()
	}
	fmt.Fprintln(w, line)
}

func rejectCode(s string) (int, error) {
	switch s {
	case "", "none":
		return 0, nil
	case "busy":
		return 486, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 400 || n > 699 {
		return 0, fmt.Errorf("%w: --reject %q: want busy, none or a 4xx-6xx code", errUsage, s)
	}
	return n, nil
}

func mediaMode(s string) sipphone.MediaMode {
	switch s {
	case "silence":
		return sipphone.MediaSilence
	case "tone":
		return sipphone.MediaTone
	}
	return sipphone.MediaEcho
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		f           callFlags
		rate        string
		concurrency int
		duration    time.Duration
	)
	f.register(fs)
	fs.StringVar(&rate, "rate", "5/s", "calls per second, e.g. 5/s or 5")
	fs.IntVar(&concurrency, "concurrency", 20, "maximum simultaneous calls")
	fs.DurationVar(&duration, "duration", 30*time.Second, "how long to keep starting calls")
	_ = fs.Set("hold", "5s")
	if err := parse(fs, args); err != nil {
		return err
	}
	r, err := strconv.ParseFloat(strings.TrimSuffix(rate, "/s"), 64)
	if err != nil || r <= 0 {
		return fmt.Errorf("%w: --rate %q", errUsage, rate)
	}
	c, err := sipphone.NewCaller(ctx, sipphone.CallerConfig{EndpointConfig: f.endpoint(log)})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(stdout, "load %s: %.1f calls/s, concurrency %d, for %s (hold %s)\n", f.to, r, concurrency, duration, f.hold)
	res, err := sipphone.LoadRunner{Caller: c}.Run(ctx, sipphone.LoadConfig{Call: f.options(), Rate: r, Concurrency: concurrency, Duration: duration})
	if err != nil {
		return err
	}
	if err := res.WriteTable(stdout); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	return nil
}
