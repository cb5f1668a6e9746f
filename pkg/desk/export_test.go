package desk

import (
	"errors"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/relay"
)

// FailOutboxWrites makes d's writes to its (real) outbox fail while fail
// is set, as a full disk would.
func FailOutboxWrites(d *Desk, fail *atomic.Bool) {
	d.writeOutbox = func(m relay.Message, dests []string) ([]string, error) {
		if fail.Load() {
			return nil, errors.New("write toritsugi.db: no space left on device")
		}
		return d.Outbox.Enqueue(m, dests)
	}
}

// FailPresenceWrites makes d's writes of operators' states fail while
// fail is set, as a full disk would.
func FailPresenceWrites(d *Desk, fail *atomic.Bool) {
	d.presence.fail = func() error {
		if fail.Load() {
			return errors.New("write toritsugi.db: no space left on device")
		}
		return nil
	}
}

// FailOutboxForgets makes d's deletions of outbox entries fail while
// fail is set, as a full disk would.
func FailOutboxForgets(d *Desk, fail *atomic.Bool) {
	d.forgetOutbox = func(ids []string) (int, error) {
		if fail.Load() {
			return 0, errors.New("write toritsugi.db: no space left on device")
		}
		return d.Outbox.Forget(ids)
	}
}

// FailNoticeForgets makes the call-record retention's deletions of its
// notices' relay copies fail while fail is set, as a full disk would.
func FailNoticeForgets(d *Desk, fail *atomic.Bool) {
	d.forgetNoticesIn = func(tx *bolt.Tx, ids []string) error {
		if fail.Load() {
			return errors.New("write toritsugi.db: no space left on device")
		}
		_, err := d.Outbox.ForgetIn(tx, ids)
		return err
	}
}
