package acd

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTreeMatchesSortedSlice checks order, rank, ceil and removal against a
// sorted slice under random operations.
func TestTreeMatchesSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tree ctree
	var ref []qkey
	cmpKey := func(a, b qkey) int {
		switch {
		case a.less(b):
			return -1
		case b.less(a):
			return 1
		}
		return 0
	}
	for i := range 3000 {
		if len(ref) > 0 && rng.IntN(3) == 0 {
			k := ref[rng.IntN(len(ref))]
			tree.remove(k)
			j, _ := slices.BinarySearchFunc(ref, k, cmpKey)
			ref = slices.Delete(ref, j, j+1)
		} else {
			k := qkey{group: uint8(rng.IntN(2)), at: int64(rng.IntN(50)), seq: uint64(i + 1)}
			tree.insert(&callRec{key: k})
			j, _ := slices.BinarySearchFunc(ref, k, cmpKey)
			ref = slices.Insert(ref, j, k)
		}
		if tree.len() != len(ref) {
			t.Fatalf("len %d, want %d", tree.len(), len(ref))
		}
		if len(ref) == 0 {
			continue
		}
		j := rng.IntN(len(ref))
		if r := tree.rank(ref[j]); r != j {
			t.Fatalf("rank %d, want %d", r, j)
		}
		next := tree.after(ref[j])
		if (next == nil) != (j == len(ref)-1) || next != nil && next.key != ref[j+1] {
			t.Fatalf("after(%v) wrong", ref[j])
		}
	}
	var got []qkey
	tree.each(func(cl *callRec) bool { got = append(got, cl.key); return true })
	if !slices.Equal(got, ref) {
		t.Fatal("in-order walk differs from the sorted slice")
	}
}
