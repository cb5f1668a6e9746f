package acd

// queue.go: an order-statistic treap of a client's unconnected calls, giving
// O(log n) insert, remove, first-after and rank (the caller's position).

// qkey orders calls: VIP group first, then enqueue time, then enqueue order.
type qkey struct {
	group uint8 // 0 = VIP, 1 = normal
	at    int64 // enqueue time, Unix nanoseconds
	seq   uint64
}

func (a qkey) less(b qkey) bool {
	if a.group != b.group {
		return a.group < b.group
	}
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

type tnode struct {
	key   qkey
	call  *callRec
	prio  uint64
	size  int
	left  *tnode
	right *tnode
}

func (n *tnode) sz() int {
	if n == nil {
		return 0
	}
	return n.size
}

func (n *tnode) fix() { n.size = 1 + n.left.sz() + n.right.sz() }

// ctree is the treap; the zero value is empty.
type ctree struct{ root *tnode }

// splitmix64 gives deterministic, well-spread heap priorities.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// split returns (keys < k, keys >= k).
func split(n *tnode, k qkey) (*tnode, *tnode) {
	if n == nil {
		return nil, nil
	}
	if n.key.less(k) {
		l, r := split(n.right, k)
		n.right = l
		n.fix()
		return n, r
	}
	l, r := split(n.left, k)
	n.left = r
	n.fix()
	return l, n
}

func merge(a, b *tnode) *tnode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a.right = merge(a.right, b)
		a.fix()
		return a
	default:
		b.left = merge(a, b.left)
		b.fix()
		return b
	}
}

func (t *ctree) len() int { return t.root.sz() }

func (t *ctree) insert(c *callRec) {
	n := &tnode{key: c.key, call: c, prio: splitmix64(c.key.seq), size: 1}
	l, r := split(t.root, c.key)
	t.root = merge(merge(l, n), r)
}

func (t *ctree) remove(k qkey) {
	t.root = removeKey(t.root, k)
}

func removeKey(n *tnode, k qkey) *tnode {
	if n == nil {
		return nil
	}
	switch {
	case k.less(n.key):
		n.left = removeKey(n.left, k)
	case n.key.less(k):
		n.right = removeKey(n.right, k)
	default:
		return merge(n.left, n.right)
	}
	n.fix()
	return n
}

// rank returns how many keys are strictly below k.
func (t *ctree) rank(k qkey) int {
	r := 0
	for n := t.root; n != nil; {
		if n.key.less(k) {
			r += n.left.sz() + 1
			n = n.right
		} else {
			n = n.left
		}
	}
	return r
}

// ceil returns the call with the smallest key >= k, or nil.
func (t *ctree) ceil(k qkey) *callRec {
	var best *callRec
	for n := t.root; n != nil; {
		if n.key.less(k) {
			n = n.right
		} else {
			best = n.call
			n = n.left
		}
	}
	return best
}

// after returns the call with the smallest key > k, or nil.
func (t *ctree) after(k qkey) *callRec {
	k.seq++ // seq is unique per call, so > k equals >= k with seq+1
	return t.ceil(k)
}

// each visits calls in queue order until fn returns false.
func (t *ctree) each(fn func(*callRec) bool) {
	var walk func(*tnode) bool
	walk = func(n *tnode) bool {
		if n == nil {
			return true
		}
		return walk(n.left) && fn(n.call) && walk(n.right)
	}
	walk(t.root)
}
