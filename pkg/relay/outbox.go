package relay

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"

	bolt "go.etcd.io/bbolt"
)

// Bucket names the outbox creates in the shared bbolt file.
var (
	bucketOutbox = []byte("relay_outbox")
	bucketDead   = []byte("relay_dead")
	// bucketDue indexes the pending entries of bucketOutbox: id → NextAt
	// (8 bytes, big-endian Unix nanoseconds), so that the worker's look
	// for due entries reads those, not a month of delivered ones. It is
	// rebuilt at every OpenOutbox: a binary that did not keep it may have
	// written the outbox meanwhile.
	bucketDue = []byte("relay_due")
	// bucketUnreadable keeps the entries of bucketOutbox and bucketDead
	// that OpenOutbox could not decode (a damaged value): id → an
	// unreadable, for an admin to look at. They are never sent; they go
	// with their message (Forget: the retention, an erasure) and 30 days
	// after they were set aside (Purge), and count in Stats.
	bucketUnreadable = []byte("relay_unreadable")
)

// unreadable is an entry set aside in bucketUnreadable: its value as it
// was, where it was, when and why it was set aside.
type unreadable struct {
	Bucket   string    `json:"bucket"`
	SetAside time.Time `json:"set_aside_at"`
	Error    string    `json:"error"`
	Value    []byte    `json:"value"`
}

// State of an outbox entry.
type State string

// Entry states.
const (
	StatePending   State = "pending"
	StateDelivered State = "delivered"
	StateDead      State = "dead"
	// StateDiscarded is a dead letter an admin dismissed (Discard): kept
	// like a delivered entry, so that its pair is never queued again (a
	// start-up check would), and purged with them.
	StateDiscarded State = "discarded"
)

// DefaultMaxAttempts is the number of attempts before an entry is
// dead-lettered when OutboxOptions.MaxAttempts is zero.
const DefaultMaxAttempts = 8

// DefaultBackoff is the wait after the 1st, 2nd, ... failed attempt; the
// last value repeats.
var DefaultBackoff = []time.Duration{
	10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 6 * time.Hour, 12 * time.Hour,
}

// OutboxOptions configure OpenOutbox.
type OutboxOptions struct {
	// Clock gives the time; nil means the system clock.
	Clock Clock
	// MaxAttempts before dead-lettering; zero means DefaultMaxAttempts.
	MaxAttempts int
	// Backoff overrides DefaultBackoff.
	Backoff []time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
	// Admit, when set, is asked in Enqueue's transaction whether m may
	// be queued; its error refuses it (wrapped with ErrNotAdmitted). The
	// service checks there that a message's intake still exists and its
	// caller is not being erased.
	Admit func(tx *bolt.Tx, m Message) error
}

// Outbox is the durable queue of (message, destination) deliveries, kept
// in the application's bbolt file. It is safe for concurrent use. Run at
// most one Worker per Outbox (per file).
type Outbox struct {
	db      *bolt.DB
	clock   Clock
	max     int
	backoff []time.Duration
	log     *slog.Logger
	kick    chan struct{}
	admit   func(tx *bolt.Tx, m Message) error
}

// ErrNotAdmitted: OutboxOptions.Admit refused a message (its intake
// erased, or its caller being erased): nothing was queued.
var ErrNotAdmitted = errors.New("relay: message not admitted")

// Entry is one delivery of a message to one destination, as the console
// sees it.
type Entry struct {
	// ID is IdempotencyKey(MessageID, Destination).
	ID          string `json:"id"`
	MessageID   string `json:"message_id"`
	Destination string `json:"destination"`
	State       State  `json:"state"`
	Attempts    int    `json:"attempts"`
	// Throttled counts the attempts the destination refused as too many
	// (a 429) that do not count towards dead-lettering: those of the
	// entry's first day, up to maxFreeThrottles (see throttle.go).
	Throttled int `json:"throttled,omitempty"`
	// HastenedFrom, while set, is the NextAt the entry's backoff gave it
	// before Hasten brought it forward: its next attempt was not called
	// for by its backoff. If that attempt fails while HastenedFrom is
	// still ahead, it is free (Hastened) and the entry goes back to
	// HastenedFrom. Cleared by the attempt.
	HastenedFrom time.Time `json:"hastened_from,omitzero"`
	// Hastened counts the attempts brought forward by Hasten that failed
	// and do not count towards dead-lettering (nor advance the backoff).
	// A delivery to the entry's server brings it forward only while
	// Hastened < maxFreeHastens; a reload (HastenChanged) always does.
	Hastened int `json:"hastened,omitempty"`
	// RetriedAt is when a person last sent the entry again from the
	// dead letters (Retry): its day of free refusals starts over then.
	RetriedAt  time.Time `json:"retried_at,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
	NextAt     time.Time `json:"next_at"`
	EnqueuedAt time.Time `json:"enqueued_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Message    Message   `json:"message"`
}

// InJapan is e with its times, and its message's, in Japan time.
func (e Entry) InJapan() Entry {
	e.RetriedAt, e.NextAt, e.EnqueuedAt, e.UpdatedAt = japan.In(e.RetriedAt), japan.In(e.NextAt), japan.In(e.EnqueuedAt), japan.In(e.UpdatedAt)
	e.Message = e.Message.InJapan()
	return e
}

// Filter selects entries for List; zero fields match everything.
type Filter struct {
	State       State
	MessageID   string
	ClientID    string
	Destination string
	// Limit caps the result; zero means no limit.
	Limit int
}

// OpenOutbox creates the relay buckets in db if missing. The caller keeps
// ownership of db and closes it after stopping the worker.
func OpenOutbox(db *bolt.DB, opts OutboxOptions) (*Outbox, error) {
	if db == nil {
		return nil, fmt.Errorf("relay: open outbox: nil db: %w", ErrInvalid)
	}
	o := &Outbox{db: db, clock: opts.Clock, max: opts.MaxAttempts, backoff: opts.Backoff,
		log: opts.Logger, kick: make(chan struct{}, 1), admit: opts.Admit}
	if o.clock == nil {
		o.clock = SystemClock{}
	}
	if o.max <= 0 {
		o.max = DefaultMaxAttempts
	}
	if len(o.backoff) == 0 {
		o.backoff = DefaultBackoff
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketOutbox, bucketDead, bucketUnreadable} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := setAsideUnreadable(tx, o.clock.Now(), o.log); err != nil {
			return err
		}
		return rebuildDue(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("relay: create buckets: %w", err)
	}
	return o, nil
}

// Enqueue durably records one pending entry per destination, due now,
// before anything is sent. Enqueueing a (message, destination) pair that
// exists already, in any state, is a no-op. It returns the ids of the
// entries it created.
func (o *Outbox) Enqueue(m Message, dests []string) ([]string, error) {
	if m.ID == "" {
		return nil, fmt.Errorf("relay: enqueue: empty message id: %w", ErrInvalid)
	}
	for _, d := range dests {
		if d == "" || strings.Contains(d, "/") {
			return nil, fmt.Errorf("relay: enqueue %s: destination name %q: %w", m.ID, d, ErrInvalid)
		}
	}
	now := o.clock.Now()
	var created []string
	err := o.db.Update(func(tx *bolt.Tx) error {
		created = created[:0]
		if o.admit != nil {
			if err := o.admit(tx, m); err != nil {
				return fmt.Errorf("%w: %w", ErrNotAdmitted, err)
			}
		}
		ob, dead := tx.Bucket(bucketOutbox), tx.Bucket(bucketDead)
		// A correction of this message queued first (two people saving
		// at once, one slower to queue): sent now, this version would be
		// the client's stale last word. It is kept, discarded, for the
		// record, and a destination the correction was not queued for
		// gets the correction instead.
		var later Entry
		laterID, raw, superseded := latestVersion(tx, m, "")
		if superseded {
			var err error
			if later, err = decodeEntry(raw); err != nil {
				return fmt.Errorf("%s: %w", laterID, err)
			}
		}
		for _, d := range dests {
			id := IdempotencyKey(m.ID, d)
			k := []byte(id)
			if ob.Get(k) != nil || dead.Get(k) != nil {
				continue
			}
			e := Entry{ID: id, MessageID: m.ID, Destination: d, State: StatePending,
				NextAt: now, EnqueuedAt: now, UpdatedAt: now, Message: m}
			if !superseded {
				if err := putEntry(tx, bucketOutbox, e); err != nil {
					return err
				}
				created = append(created, id)
				continue
			}
			e.State, e.NextAt = StateDiscarded, time.Time{}
			e.LastError = "superseded: a later version was queued first (" + later.ID + ")"
			if err := putEntry(tx, bucketOutbox, e); err != nil {
				return err
			}
			lid := IdempotencyKey(later.MessageID, d)
			if ob.Get([]byte(lid)) != nil || dead.Get([]byte(lid)) != nil {
				continue
			}
			le := Entry{ID: lid, MessageID: later.MessageID, Destination: d, State: StatePending,
				NextAt: now, EnqueuedAt: now, UpdatedAt: now, Message: later.Message}
			if err := putEntry(tx, bucketOutbox, le); err != nil {
				return err
			}
			created = append(created, lid)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("relay: enqueue %s: %w", m.ID, err)
	}
	if len(created) > 0 {
		o.log.Info("relay enqueued", "message", m.ID, "entries", created)
		o.wake()
	}
	return created, nil
}

// List returns the entries matching f, pending and delivered first then
// dead, each group in id order. With a MessageID it reads only that
// message's entries (ids are IdempotencyKey: the message id, "/", the
// destination), and for StatePending only the pending ones, not the whole
// outbox.
func (o *Outbox) List(f Filter) ([]Entry, error) {
	var out []Entry
	err := o.db.View(func(tx *bolt.Tx) error {
		return each(tx, f, func(e Entry) bool {
			if f.Limit > 0 && len(out) >= f.Limit {
				return false
			}
			out = append(out, e)
			return true
		})
	})
	if err != nil {
		return nil, fmt.Errorf("relay: list: %w", err)
	}
	return out, nil
}

// Position is an entry's place in the order Page lists: when it was
// enqueued, then its id. The zero Position comes before every entry.
type Position struct {
	EnqueuedAt time.Time
	ID         string
}

// PositionOf returns e's place in Page's order.
func PositionOf(e Entry) Position { return Position{EnqueuedAt: e.EnqueuedAt, ID: e.ID} }

// Compare orders positions: -1 if p comes first, 0 if equal, +1 after.
func (p Position) Compare(q Position) int {
	if c := p.EnqueuedAt.Compare(q.EnqueuedAt); c != 0 {
		return c
	}
	return strings.Compare(p.ID, q.ID)
}

// Page returns, oldest first, the n oldest entries matching f that come
// after the position after, and whether more match beyond them: an
// administrator reads a month of delivered entries page by page, passing
// the last entry's position to get the next. f.Limit is not used. It
// reads every entry in f's state but holds only n of them.
func (o *Outbox) Page(f Filter, after Position, n int) ([]Entry, bool, error) {
	if n <= 0 {
		return nil, false, fmt.Errorf("relay: page of %d entries: %w", n, ErrInvalid)
	}
	// A max-heap of the n oldest seen so far: its root is the newest of
	// them, the one a still older entry replaces.
	var kept pageHeap
	more := false
	err := o.db.View(func(tx *bolt.Tx) error {
		return each(tx, f, func(e Entry) bool {
			pos := PositionOf(e)
			if pos.Compare(after) <= 0 {
				return true
			}
			switch {
			case len(kept) < n:
				heap.Push(&kept, e)
			case pos.Compare(PositionOf(kept[0])) < 0:
				kept[0] = e
				heap.Fix(&kept, 0)
				more = true
			default:
				more = true
			}
			return true
		})
	})
	if err != nil {
		return nil, false, fmt.Errorf("relay: page: %w", err)
	}
	slices.SortFunc(kept, func(a, b Entry) int { return PositionOf(a).Compare(PositionOf(b)) })
	return kept, more, nil
}

// pageHeap is a max-heap of entries by Position.
type pageHeap []Entry

func (h pageHeap) Len() int           { return len(h) }
func (h pageHeap) Less(i, j int) bool { return PositionOf(h[i]).Compare(PositionOf(h[j])) > 0 }
func (h pageHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pageHeap) Push(x any)        { *h = append(*h, x.(Entry)) }
func (h *pageHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// each calls fn with every entry matching f, pending and delivered first
// then dead, each group in id order, until fn returns false. With a
// MessageID it reads only that message's entries, and for StatePending
// only the pending ones.
func each(tx *bolt.Tx, f Filter, fn func(Entry) bool) error {
	var prefix []byte
	if f.MessageID != "" {
		prefix = []byte(IdempotencyKey(f.MessageID, ""))
	}
	// Each source lists keys, and the bucket that holds their entries.
	ob, dead := tx.Bucket(bucketOutbox), tx.Bucket(bucketDead)
	sources := [][2]*bolt.Bucket{{ob, ob}, {dead, dead}}
	if f.State == StatePending {
		// The due index names every pending entry: a month of
		// delivered ones is not read.
		sources = [][2]*bolt.Bucket{{tx.Bucket(bucketDue), ob}}
	}
	for _, src := range sources {
		c := src[0].Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if src[0] != src[1] {
				if v = src[1].Get(k); v == nil {
					return fmt.Errorf("%w: due index names %q, which is not in the outbox", ErrCorrupt, k)
				}
			}
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			if f.match(e) && !fn(e) {
				return nil
			}
		}
	}
	return nil
}

// Get returns the entry with id, in any state.
func (o *Outbox) Get(id string) (Entry, error) {
	var e Entry
	err := o.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketOutbox).Get([]byte(id))
		if v == nil {
			v = tx.Bucket(bucketDead).Get([]byte(id))
		}
		if v == nil {
			return ErrNotFound
		}
		var err error
		e, err = decodeEntry(v)
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("relay: get %s: %w", id, err)
	}
	return e, nil
}

// Retry moves a dead entry back to pending, due now, with its attempt
// count reset (its last error is kept for the record). A version of an
// intake with a later version (a correction) queued for the same
// destination, in any state, is refused with ErrSuperseded: the client
// must not get the stale version after its correction. Retry the latest
// version instead, and discard this one.
func (o *Outbox) Retry(id string) error {
	err := o.reviveDead(id, func(tx *bolt.Tx, e *Entry, now time.Time) error {
		m := e.Message
		m.ID = e.MessageID
		if later, _, ok := latestVersion(tx, m, e.Destination); ok {
			return fmt.Errorf("%w (%s)", ErrSuperseded, later)
		}
		e.State, e.Attempts, e.Throttled, e.NextAt, e.UpdatedAt, e.RetriedAt = StatePending, 0, 0, now, now, now
		e.Hastened, e.HastenedFrom = 0, time.Time{}
		return nil
	})
	if err != nil {
		return fmt.Errorf("relay: retry %s: %w", id, err)
	}
	o.log.Info("relay retry", "entry", id)
	o.wake()
	return nil
}

// latestVersion finds, for intake message m, the entry of its latest
// later version (in the outbox or among the dead letters) for destination
// dest, or for any destination when dest is "": its id, and its raw
// value, decoded only for the one found. ok is false when there is none
// (or m is not an intake's message).
func latestVersion(tx *bolt.Tx, m Message, dest string) (id string, raw []byte, ok bool) {
	intake, n, isIntake := ParseIntakeMessageID(m.ID)
	if m.Kind != KindIntake || !isIntake {
		return "", nil, false
	}
	best, prefix := n, []byte(intake+"-v")
	for _, b := range [][]byte{bucketOutbox, bucketDead} {
		c := tx.Bucket(b).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			msg, d, cut := strings.Cut(string(k), "/")
			mid, ver, parsed := ParseIntakeMessageID(msg)
			if !cut || !parsed || mid != intake || ver <= best || (dest != "" && d != dest) {
				continue
			}
			id, raw, best, ok = string(k), v, ver, true
		}
	}
	return id, raw, ok
}

// discardSuperseded discards the dead letters of earlier versions of
// delivered intake message e for e's destination: the client has the
// correction, and an earlier version sent now would be the stale last
// word. (Retry refuses them while the correction's entry is kept; once it
// is purged, 30 days on, nothing would.) They stop counting as dead.
func discardSuperseded(tx *bolt.Tx, e Entry, now time.Time) error {
	intake, n, ok := ParseIntakeMessageID(e.MessageID)
	if e.Message.Kind != KindIntake || !ok || n < 2 {
		return nil
	}
	dead := tx.Bucket(bucketDead)
	for v := 1; v < n; v++ {
		id := []byte(IdempotencyKey(IntakeMessageID(intake, v), e.Destination))
		raw := dead.Get(id)
		if raw == nil {
			continue
		}
		old, err := decodeEntry(raw)
		if err != nil {
			return err
		}
		old.State, old.NextAt, old.UpdatedAt = StateDiscarded, time.Time{}, now
		old.LastError = fmt.Sprintf("superseded: version %d was delivered (%s)", n, old.LastError)
		if err := dead.Delete(id); err != nil {
			return err
		}
		if err := putEntry(tx, bucketOutbox, old); err != nil {
			return err
		}
	}
	return nil
}

// reviveDead moves dead letter id back to the outbox bucket, as change
// makes it (ErrNotFound if id is not a dead letter; an error of change's
// leaves it dead).
func (o *Outbox) reviveDead(id string, change func(tx *bolt.Tx, e *Entry, now time.Time) error) error {
	now := o.clock.Now()
	return o.db.Update(func(tx *bolt.Tx) error {
		dead := tx.Bucket(bucketDead)
		v := dead.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		e, err := decodeEntry(v)
		if err != nil {
			return err
		}
		if err := change(tx, &e, now); err != nil {
			return err
		}
		if err := dead.Delete([]byte(id)); err != nil {
			return err
		}
		return putEntry(tx, bucketOutbox, e)
	})
}

// ranAhead reports whether the entry of due-index value v was last
// updated after now (beyond a minute's drift): the clock has been set
// back since.
func ranAhead(v []byte, now time.Time) bool {
	updated := time.Unix(0, int64(binary.BigEndian.Uint64(v[8:])))
	return updated.After(now.Add(time.Minute))
}

// Discard dismisses dead letter id (the message is obsolete, its
// destination gone): it no longer counts as dead (Stats, an alert on
// relay.dead) and is never sent. ErrNotFound if id is not a dead letter.
func (o *Outbox) Discard(id string) error {
	err := o.reviveDead(id, func(_ *bolt.Tx, e *Entry, now time.Time) error {
		e.State, e.NextAt, e.UpdatedAt = StateDiscarded, time.Time{}, now
		return nil
	})
	if err != nil {
		return fmt.Errorf("relay: discard %s: %w", id, err)
	}
	o.log.Info("relay dead letter discarded", "entry", id)
	return nil
}

// due returns pending entries with NextAt <= now not in skip, at most
// limit, earliest first, and the earliest NextAt of the pending entries
// not yet due (zero when none). pick, when set, is asked about each due
// entry in that order and only those it takes are returned (an entry it
// leaves is not counted in the NextAt: the caller asks again when what
// held it back is over). pick sees the entry's ID, MessageID, Destination
// and NextAt only: the scan decides from the index, and decodes just the
// entries it returns (a backlog held back by a pause is not read whole
// after every attempt).
func (o *Outbox) due(now time.Time, skip map[string]bool, pick func(Entry) bool, limit int) ([]Entry, time.Time, error) {
	type dueKey struct {
		id     string
		at     time.Time
		queued int64 // Unix nanoseconds
	}
	var cands []dueKey
	var next time.Time
	var ready []Entry
	pending := map[string]bool{} // every entry waiting to be sent, due or not
	err := o.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		err := tx.Bucket(bucketDue).ForEach(func(k, v []byte) error {
			if len(v) != dueValueLen {
				return fmt.Errorf("%w: due index of %q", ErrCorrupt, k)
			}
			pending[string(k)] = true
			if skip[string(k)] {
				return nil
			}
			at := time.Unix(0, int64(binary.BigEndian.Uint64(v)))
			order := at
			if at.After(now) && ranAhead(v, now) {
				// Scheduled while the clock ran ahead (a host booted
				// with JST in a UTC hardware clock, then corrected by
				// NTP): due now, not hours from now.
				at = now
			}
			if at.After(now) {
				if next.IsZero() || at.Before(next) {
					next = at
				}
				return nil
			}
			cands = append(cands, dueKey{id: string(k), at: order, queued: int64(binary.BigEndian.Uint64(v[16:]))})
			return nil
		})
		if err != nil {
			return err
		}
		// Earliest first (by the time scheduled, as stored), then the
		// first queued: a backlog brought forward at once (Hasten) goes
		// in the order its messages were taken.
		sort.SliceStable(cands, func(i, j int) bool {
			if !cands[i].at.Equal(cands[j].at) {
				return cands[i].at.Before(cands[j].at)
			}
			return cands[i].queued < cands[j].queued
		})
		for _, c := range cands {
			if len(ready) == limit {
				if pick == nil && (next.IsZero() || c.at.Before(next)) {
					next = c.at
				}
				if pick == nil {
					break
				}
				return nil
			}
			// "<message id>/<destination>": a destination has no '/', a
			// message id may.
			slash := strings.LastIndexByte(c.id, '/')
			msg, dest := c.id[:max(slash, 0)], c.id[slash+1:]
			var e Entry
			decoded := false
			decode := func() error {
				raw := ob.Get([]byte(c.id))
				if raw == nil {
					return fmt.Errorf("%w: due index names %q, which is not in the outbox", ErrCorrupt, c.id)
				}
				var err error
				e, err = decodeEntry(raw)
				decoded = true
				return err
			}
			// A correction waits while an earlier version of its message
			// is still to be sent to the same destination (retried after
			// a 429, or sent alongside): the client must get the original
			// first, or the stale one would be the last word.
			if earlierVersionPending(msg, dest, pending) {
				if err := decode(); err != nil {
					return err
				}
				if e.Message.Kind == KindIntake {
					continue
				}
			}
			if pick != nil && !pick(Entry{ID: c.id, MessageID: msg, Destination: dest, NextAt: c.at}) {
				continue
			}
			if !decoded {
				if err := decode(); err != nil {
					return err
				}
			}
			ready = append(ready, e)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("relay: scan due: %w", err)
	}
	return ready, next, nil
}

// maxFreeHastens bounds the failed attempts of one entry that deliveries
// to its server bring forward (Hasten) without counting: an entry that
// fails on its own while its server takes others' messages (a mailbox
// full, another client's destination) is tried at most this many extra
// times, then waits for its backoff alone, which still takes it to the
// dead letters on schedule.
const maxFreeHastens = 16

// Hasten makes every pending entry whose destination match accepts and
// that waits for a retry (its NextAt after now) due now, wakes the worker
// and returns how many it brought forward. A destination that answers
// again (after an outage of Slack or of the SMTP relay) gets its backlog
// at once, not hours later and after the messages queued since. The
// worker's bound on sends to one server, and its pause of a destination
// that asked to be sent less, still apply. Each entry keeps its attempts
// and UpdatedAt (its last attempt's), and remembers the time its backoff
// gave it (HastenedFrom; an entry brought forward again before its
// attempt keeps the first): the attempt, if it fails while that time is
// still ahead, does not count and the entry goes back to that time
// (record). An entry whose brought-forward attempts failed
// maxFreeHastens times is left at its time. match is given the
// destination read from the due index's key, so an entry is decoded only
// when it waits for a destination match accepts; it is called in a read
// transaction, and the write transaction comes only when there is
// something to bring forward.
func (o *Outbox) Hasten(match func(destination string) bool) (int, error) {
	return o.hasten(match, false)
}

// HastenChanged is Hasten for the destinations a reload added or changed
// (their settings, or the routes naming them): an admin put something
// right, so their entries go now even if deliveries to their server
// already brought them forward maxFreeHastens times; their attempts are
// free all the same if they fail (the fix may not have worked).
func (o *Outbox) HastenChanged(match func(destination string) bool) (int, error) {
	return o.hasten(match, true)
}

func (o *Outbox) hasten(match func(destination string) bool, changed bool) (int, error) {
	now := o.clock.Now()
	waits := func(k, v []byte) (bool, error) {
		if len(v) != dueValueLen {
			return false, fmt.Errorf("%w: due index of %q", ErrCorrupt, k)
		}
		return time.Unix(0, int64(binary.BigEndian.Uint64(v))).After(now), nil
	}
	// hastens reports whether entry k, waiting, is to be brought forward.
	hastens := func(ob *bolt.Bucket, k []byte) (Entry, bool, error) {
		raw := ob.Get(k)
		if raw == nil {
			return Entry{}, false, fmt.Errorf("%w: due index names %q, which is not in the outbox", ErrCorrupt, k)
		}
		e, err := decodeEntry(raw)
		if err != nil {
			return Entry{}, false, err
		}
		return e, changed || e.Hastened < maxFreeHastens, nil
	}
	var keys [][]byte
	err := o.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		return tx.Bucket(bucketDue).ForEach(func(k, v []byte) error {
			ok, err := waits(k, v)
			// "<message id>/<destination>": a destination has no '/'.
			if err != nil || !ok || !match(string(k[bytes.LastIndexByte(k, '/')+1:])) {
				return err
			}
			if _, ok, err = hastens(ob, k); ok {
				keys = append(keys, append([]byte(nil), k...))
			}
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("relay: hasten: %w", err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	n := 0
	err = o.db.Update(func(tx *bolt.Tx) error {
		n = 0
		ob, due := tx.Bucket(bucketOutbox), tx.Bucket(bucketDue)
		for _, k := range keys {
			v := due.Get(k)
			if v == nil {
				continue // sent, or erased, since it was read
			}
			if ok, err := waits(k, v); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			e, ok, err := hastens(ob, k)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if e.HastenedFrom.IsZero() {
				e.HastenedFrom = e.NextAt
			}
			e.NextAt = now
			if err := putEntry(tx, bucketOutbox, e); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("relay: hasten: %w", err)
	}
	if n > 0 {
		o.wake()
	}
	return n, nil
}

// earlierVersionPending reports whether an earlier version of intake
// message messageID ("<intake>-v<N>") waits to be sent to destination
// (pending holds the ids of the entries waiting). The caller checks that
// the entry is an intake's.
func earlierVersionPending(messageID, destination string, pending map[string]bool) bool {
	id, n, ok := ParseIntakeMessageID(messageID)
	if !ok {
		return false
	}
	for v := 1; v < n; v++ {
		if pending[IdempotencyKey(IntakeMessageID(id, v), destination)] {
			return true
		}
	}
	return false
}

// record commits the outcome of one attempt: delivered, rescheduled with
// backoff (or as long as a destination that refused it as too many
// asked), or moved to the dead bucket. It is the only place an entry
// becomes delivered, in the same transaction that counts the attempt.
func (o *Outbox) record(id string, sendErr error) (Entry, error) {
	now := o.clock.Now()
	var e Entry
	err := o.db.Update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		v := ob.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		var err error
		if e, err = decodeEntry(v); err != nil {
			return err
		}
		if e.State != StatePending {
			return nil // already settled; never undo a delivery
		}
		// Set while this attempt was brought forward (Hasten), not
		// called for by the entry's backoff; cleared by any outcome.
		hastenedFrom := e.HastenedFrom
		e.HastenedFrom = time.Time{}
		e.Attempts++
		e.UpdatedAt = now
		if sendErr == nil || errors.Is(sendErr, ErrPartlyDelivered) {
			e.State, e.LastError, e.NextAt = StateDelivered, "", time.Time{}
			if sendErr != nil {
				e.LastError = sendErr.Error()
			}
			if err := putEntry(tx, bucketOutbox, e); err != nil {
				return err
			}
			return discardSuperseded(tx, e, now)
		}
		e.LastError = sendErr.Error()
		wait, limited := throttled(sendErr, now)
		// An attempt brought forward (Hasten: a delivery to the entry's
		// server, or a reload changing its destination) before the time
		// its backoff gave it, which is still ahead, costs nothing if it
		// fails (a mailbox full, a destination still wrong, a refusal as
		// too many): the entry goes back to that time, its failures as
		// they were, as though it had not been tried. No floor is needed:
		// that time is after now. Once it has come, the attempt is the
		// one the backoff called for and counts, so bringing an entry
		// forward again and again never keeps it from its counted
		// attempts, nor from the dead letters. An ErrPermanent error
		// dead-letters it at once as ever.
		if hastenedFrom.After(now) && !errors.Is(sendErr, ErrPermanent) {
			e.Hastened++
			e.NextAt = hastenedFrom
			if at := now.Add(wait); limited && at.After(e.NextAt) {
				e.NextAt = at // a refusal as too many: not before the time asked
			}
			return putEntry(tx, bucketOutbox, e)
		}
		since := e.EnqueuedAt
		if e.RetriedAt.After(since) {
			since = e.RetriedAt
		}
		if limited && now.Sub(since) < throttleGrace && e.Throttled < maxFreeThrottles {
			e.Throttled++
			if wait == 0 {
				wait = min(o.delay(e.Throttled), maxThrottleWait)
			}
			e.NextAt = now.Add(wait)
			return putEntry(tx, bucketOutbox, e)
		}
		// At least 1 as stored by this code (the counts go up
		// together); guarded all the same, since o.delay needs it.
		failed := max(e.Attempts-e.Throttled-e.Hastened, 1)
		if failed >= o.max || errors.Is(sendErr, ErrPermanent) {
			e.State, e.NextAt = StateDead, time.Time{}
			if err := ob.Delete([]byte(id)); err != nil {
				return err
			}
			return putEntry(tx, bucketDead, e)
		}
		// A refusal as too many counts now, and is still not tried
		// again before the time asked.
		e.NextAt = now.Add(max(o.delay(failed), wait))
		return putEntry(tx, bucketOutbox, e)
	})
	if err != nil {
		return Entry{}, fmt.Errorf("relay: record attempt %s: %w", id, err)
	}
	return e, nil
}

// delay is the wait after the n-th failed attempt (n >= 1).
func (o *Outbox) delay(n int) time.Duration {
	if n > len(o.backoff) {
		n = len(o.backoff)
	}
	return o.backoff[n-1]
}

func (o *Outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

func (f Filter) match(e Entry) bool {
	return (f.State == "" || f.State == e.State) &&
		(f.MessageID == "" || f.MessageID == e.MessageID) &&
		(f.ClientID == "" || f.ClientID == e.Message.ClientID) &&
		(f.Destination == "" || f.Destination == e.Destination)
}

// putEntry stores e in the bucket called name and keeps bucketDue in step:
// an entry is indexed there exactly while it is pending in bucketOutbox.
func putEntry(tx *bolt.Tx, name []byte, e Entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode entry %s: %w", e.ID, err)
	}
	if err := tx.Bucket(name).Put([]byte(e.ID), v); err != nil {
		return err
	}
	due := tx.Bucket(bucketDue)
	if bytes.Equal(name, bucketOutbox) && e.State == StatePending {
		return due.Put([]byte(e.ID), dueValue(e))
	}
	return due.Delete([]byte(e.ID))
}

// dueValue is e's value in bucketDue: when it is due, when it was last
// updated (a time after now means the clock was set back since:
// ranAhead) and when it was queued (Stats), each as Unix nanoseconds:
// neither the worker's scans nor /healthz decode an entry. The index is
// rebuilt at every open.
func dueValue(e Entry) []byte {
	v := binary.BigEndian.AppendUint64(nil, uint64(e.NextAt.UnixNano()))
	v = binary.BigEndian.AppendUint64(v, uint64(e.UpdatedAt.UnixNano()))
	return binary.BigEndian.AppendUint64(v, uint64(e.EnqueuedAt.UnixNano()))
}

// dueValueLen is the length of a dueValue.
const dueValueLen = 24

// setAsideUnreadable moves every entry of bucketOutbox and bucketDead that
// does not decode to bucketUnreadable, logging each at Error: one damaged
// value would otherwise fail every start (the due index is rebuilt from
// the decoded entries), and every listing of the outbox, and stop the
// answering service.
func setAsideUnreadable(tx *bolt.Tx, now time.Time, log *slog.Logger) error {
	aside := tx.Bucket(bucketUnreadable)
	for _, name := range [][]byte{bucketOutbox, bucketDead} {
		b := tx.Bucket(name)
		var bad []unreadable
		var keys [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if _, err := decodeEntry(v); err != nil {
				keys = append(keys, append([]byte(nil), k...))
				bad = append(bad, unreadable{Bucket: string(name), SetAside: now, Error: err.Error(), Value: append([]byte(nil), v...)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, k := range keys {
			v, err := json.Marshal(bad[i])
			if err == nil {
				err = aside.Put(k, v)
			}
			if err == nil {
				err = b.Delete(k)
			}
			if err != nil {
				return fmt.Errorf("set aside %s %q: %w", name, k, err)
			}
			log.Error("relay entry unreadable: set aside, never sent (kept 30 days for an admin to look at)",
				"bucket", string(name), "key", string(k), "error", bad[i].Error, "now_in", string(bucketUnreadable))
		}
	}
	return nil
}

// rebuildDue indexes every pending entry of bucketOutbox afresh (run
// after setAsideUnreadable: an entry that does not decode fails it).
func rebuildDue(tx *bolt.Tx) error {
	if tx.Bucket(bucketDue) != nil {
		if err := tx.DeleteBucket(bucketDue); err != nil {
			return err
		}
	}
	due, err := tx.CreateBucket(bucketDue)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		e, err := decodeEntry(v)
		if err != nil {
			return err
		}
		if e.State != StatePending {
			return nil
		}
		return due.Put(k, dueValue(e))
	})
}

func decodeEntry(v []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil {
		return Entry{}, fmt.Errorf("decode entry: %w", err)
	}
	return e, nil
}

// Stats sum up the outbox for monitoring: how many entries wait to be
// sent, since when the oldest of them waits, and how many are dead
// letters (a person must look at them).
type Stats struct {
	Pending       int
	OldestPending time.Time // EnqueuedAt of the oldest pending entry; zero when none
	Dead          int
	// Unreadable counts the entries set aside because they could not be
	// decoded (OpenOutbox): never sent, a person must look at them.
	Unreadable int
}

// Stats reads the pending entries through the due index (not the month
// of delivered ones) and counts the dead letters' keys and the unreadable
// entries'.
func (o *Outbox) Stats() (Stats, error) {
	var st Stats
	err := o.db.View(func(tx *bolt.Tx) error {
		// From the due index alone: /healthz answers anyone, and must not
		// decode a backlog of thousands of entries for each of them.
		c := tx.Bucket(bucketDue).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) != dueValueLen {
				return fmt.Errorf("%w: due index of %q", ErrCorrupt, k)
			}
			st.Pending++
			queued := time.Unix(0, int64(binary.BigEndian.Uint64(v[16:])))
			if st.OldestPending.IsZero() || queued.Before(st.OldestPending) {
				st.OldestPending = queued
			}
		}
		dc := tx.Bucket(bucketDead).Cursor()
		for k, _ := dc.First(); k != nil; k, _ = dc.Next() {
			st.Dead++
		}
		uc := tx.Bucket(bucketUnreadable).Cursor()
		for k, _ := uc.First(); k != nil; k, _ = uc.Next() {
			st.Unreadable++
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("relay: stats: %w", err)
	}
	return st, nil
}
