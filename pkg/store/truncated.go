package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
)

// bbolt's file layout, as far as checkShort reads it: pages 0 and 1 each
// hold a meta, after a 16-byte page header: magic (4 bytes), version (4),
// page size (4), flags (4), root bucket (16), freelist page (8), the number
// of pages the file uses (8: pgid, its high-water mark), transaction id
// (8), then an FNV-64a checksum (8) of what precedes it. A meta is valid when magic, version and
// checksum agree; bbolt uses the valid one with the higher transaction id.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltPageHeader = 16
	boltMetaSum    = 56 // offset of the checksum in a meta
)

// boltMeta is what checkShort needs of a meta.
type boltMeta struct {
	pageSize    uint32
	pages, txid uint64
}

// readBoltMeta reads the meta at off, if valid.
func readBoltMeta(f *os.File, off int64) (boltMeta, bool) {
	m := make([]byte, boltMetaSum+8)
	if _, err := f.ReadAt(m, off+boltPageHeader); err != nil {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:boltMetaSum])
	if binary.LittleEndian.Uint32(m[0:]) != boltMagic || binary.LittleEndian.Uint32(m[4:]) != boltVersion ||
		h.Sum64() != binary.LittleEndian.Uint64(m[boltMetaSum:]) {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: binary.LittleEndian.Uint32(m[8:]), pages: binary.LittleEndian.Uint64(m[40:]),
		txid: binary.LittleEndian.Uint64(m[48:])}, true
}

// checkShort refuses a file shorter than the pages its newest valid meta
// says it uses: a backup cut short in transfer. bbolt would map it and
// crash the process (SIGBUS, which no recover catches) at the first read
// past its end. A file that does not exist or has no valid meta is left
// to bbolt.Open.
func checkShort(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	first, ok0 := readBoltMeta(f, 0)
	pageSize := int64(os.Getpagesize()) // where bbolt looks for the second meta without the first
	if ok0 && first.pageSize > 0 {
		pageSize = int64(first.pageSize)
	}
	second, ok1 := readBoltMeta(f, pageSize)
	best, ok := first, ok0
	if ok1 && (!ok0 || second.txid > first.txid) {
		best, ok = second, true
	}
	if !ok {
		return nil
	}
	if need := int64(best.pages) * int64(best.pageSize); st.Size() < need {
		return fmt.Errorf("%w: the file has %d bytes, its pages need %d: a copy cut short?", ErrCorrupt, st.Size(), need)
	}
	return nil
}
