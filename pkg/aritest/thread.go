package aritest

// stasisThread is the thread that runs a channel's commands in Asterisk,
// one at a time (res/stasis/control.c: stasis_app_send_command_async
// queues a command on the channel's control, and stasis_app_exec runs the
// queue in order), or the announcer that plays a bridge's media. A
// playback or a channel recording holds the thread until it ends
// (res_stasis_playback.c play_uri, res_stasis_recording.c record_file):
// playbacks, recordings, variable sets and music on hold sent meanwhile
// wait behind it, in order.
type stasisThread struct {
	held    bool
	stopped bool // its channel's hangup is requested: it runs nothing more
	//              (what waits is dropped when the channel leaves Stasis)
	gen     int // commands run so far: tells a command's own hold from a later one's
	taken   bool
	waiting []threadCmd
}

// threadCmd is a command waiting on a thread: run reports whether it
// holds the thread (media that started); dropped, when set, is what
// becomes of it when the channel hangs up before its turn.
type threadCmd struct {
	run     func() bool
	dropped func()
}

// onThreadLocked runs cmd on target's thread ("channel:<id>" or
// "bridge:<id>"): now if nothing holds it or waits on it, else after
// those. cmd reports whether it holds the thread (media that started).
func (s *Server) onThreadLocked(target string, cmd func() bool) {
	s.queueOnThreadLocked(target, threadCmd{run: cmd})
}

func (s *Server) queueOnThreadLocked(target string, cmd threadCmd) {
	t := s.threads[target]
	if t == nil {
		t = &stasisThread{}
		s.threads[target] = t
	}
	t.waiting = append(t.waiting, cmd)
	s.runThreadLocked(target, t)
}

// runThreadLocked runs what waits on t until a command holds it. The
// thread counts as held while a command runs, so that a command it queues
// on the same thread waits its turn.
func (s *Server) runThreadLocked(target string, t *stasisThread) {
	for !t.held && !t.taken && !t.stopped && len(t.waiting) > 0 {
		cmd := t.waiting[0]
		t.waiting = t.waiting[1:]
		t.gen++
		gen := t.gen
		t.held = true
		if !cmd.run() && t.gen == gen {
			t.held = false
		}
	}
	if !t.held && !t.stopped && len(t.waiting) == 0 && s.threads[target] == t {
		delete(s.threads, target)
	}
}

// releaseThreadLocked: the media that held target's thread ended; the
// commands that waited run, up to the next that holds it.
func (s *Server) releaseThreadLocked(target string) {
	t := s.threads[target]
	if t == nil {
		return
	}
	t.held = false
	s.runThreadLocked(target, t)
}

// takeThreadLocked removes target's thread and returns what still waited
// on it, in order: the channel hangs up, or the bridge is gone.
func (s *Server) takeThreadLocked(target string) []threadCmd {
	t := s.threads[target]
	if t == nil {
		return nil
	}
	delete(s.threads, target)
	t.taken = true
	waiting := t.waiting
	t.waiting = nil
	return waiting
}

// settled is the reply to a request that waited for a thread, and the
// events written before it.
type settled struct {
	rep   reply
	flush flushWaiter
}

// waitThreadsLocked answers a request whose command runs on the threads
// of targets, one after the other, as Asterisk's synchronous commands do
// (control.c stasis_app_send_command and app_send_command_on_condition
// wait in command_join): run(i) runs the part for targets[i] when that
// thread is free. A reply that cannot be given now waits in the returned
// reply's later. When a thread goes away first (its channel hung up), the
// reply is gone(), once the hangup is over, and the targets after it are
// still run: Asterisk's loop over a request's channels (resource_bridges.c
// ast_ari_bridges_add_channel) goes on past one whose command failed.
func (s *Server) waitThreadsLocked(targets []string, run func(i int) (reply, bool), gone func() reply) reply {
	if s.threadsFreeLocked(targets) {
		for i := range targets {
			if r, stop := run(i); stop {
				return r
			}
		}
		return noContent()
	}
	var (
		now    reply
		inline = true
		later  = make(chan settled, 1)
	)
	finish := func(r reply) {
		if inline {
			now = r
			return
		}
		later <- settled{rep: r, flush: s.flushTargetLocked()}
	}
	dropped := false
	var step func(i int)
	step = func(i int) {
		if i == len(targets) {
			if dropped {
				finish(gone())
			} else {
				finish(noContent())
			}
			return
		}
		s.queueOnThreadLocked(targets[i], threadCmd{
			run: func() bool {
				if r, stop := run(i); stop {
					finish(r)
				} else {
					step(i + 1)
				}
				return false
			},
			dropped: func() {
				s.after(0, func() {
					dropped = true
					step(i + 1)
				})
			},
		})
	}
	step(0)
	inline = false
	if now.status != 0 {
		return now
	}
	return reply{later: later}
}

// threadsFreeLocked reports whether nothing holds or waits on any of
// targets' threads.
func (s *Server) threadsFreeLocked(targets []string) bool {
	for _, t := range targets {
		if _, busy := s.threads[t]; busy {
			return false
		}
	}
	return true
}

// Queued is how many commands wait on channel id's Stasis thread (behind
// media playing on it): a test racing a hang-up with a command waits
// until the command is queued, whatever the machine's load.
func (s *Server) Queued(channelID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.threads["channel:"+channelID]; t != nil {
		return len(t.waiting)
	}
	return 0
}
