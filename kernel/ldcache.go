package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	goruntime "runtime"
	"sync"
)

// LibCacheEntry is one library of the dynamic linker's cache
// (/etc/ld.so.cache, what `ldconfig -p` prints).
type LibCacheEntry struct {
	Name  string // "libc.so.6"
	Path  string // "/lib/x86_64-linux-gnu/libc.so.6"
	Flags int32  // ld.so.cache flags: ABI and architecture
}

const ldCachePath = "/etc/ld.so.cache"

var ldCache struct {
	once    sync.Once
	entries []LibCacheEntry
	err     error
}

// LibCache returns the libraries of /etc/ld.so.cache, in cache order. It is
// read once.
func LibCache() ([]LibCacheEntry, error) {
	ldCache.once.Do(func() {
		data, err := os.ReadFile(ldCachePath)
		if err != nil {
			ldCache.err = err
			return
		}
		ldCache.entries, ldCache.err = ParseLibCache(data)
	})
	return ldCache.entries, ldCache.err
}

// ParseLibCache parses the contents of ld.so.cache: the "glibc-ld.so.cache1.1"
// format, alone or after the old "ld.so-1.7.0" table.
func ParseLibCache(data []byte) ([]LibCacheEntry, error) {
	const (
		oldMagic = "ld.so-1.7.0"
		newMagic = "glibc-ld.so.cache1.1"
	)
	base := 0
	if bytes.HasPrefix(data, []byte(oldMagic)) {
		// Old header: magic (11 bytes, padded to 12), nlibs, then
		// nlibs entries of 3 int32; the new table follows, 8-aligned.
		if len(data) < 16 {
			return nil, errors.New("ld.so.cache: truncated")
		}
		n := int(binary.LittleEndian.Uint32(data[12:]))
		base = 16 + 12*n
		base = (base + 7) &^ 7
		if base > len(data) || !bytes.HasPrefix(data[base:], []byte(newMagic)) {
			return nil, errors.New("ld.so.cache: only the old format, which gotrace does not read")
		}
	}
	d := data[base:]
	if !bytes.HasPrefix(d, []byte(newMagic)) || len(d) < 48 {
		return nil, errors.New("ld.so.cache: unknown format")
	}
	n := int(binary.LittleEndian.Uint32(d[20:]))
	str := func(off uint32) string {
		o := int(off)
		if o >= len(d) {
			return ""
		}
		end := bytes.IndexByte(d[o:], 0)
		if end < 0 {
			return ""
		}
		return string(d[o : o+end])
	}
	var out []LibCacheEntry
	for i := 0; i < n; i++ {
		e := 48 + 24*i
		if e+24 > len(d) {
			return nil, errors.New("ld.so.cache: truncated")
		}
		out = append(out, LibCacheEntry{
			Flags: int32(binary.LittleEndian.Uint32(d[e:])),
			Name:  str(binary.LittleEndian.Uint32(d[e+4:])),
			Path:  str(binary.LittleEndian.Uint32(d[e+8:])),
		})
	}
	return out, nil
}

// ld.so.cache flags (glibc's elf/ldconfig.h).
const (
	ldFlagTypeMask = 0x00ff
	ldFlagELFLibc6 = 0x0003
	ldFlagArchMask = 0xff00
	ldFlagX8664    = 0x0300
	ldFlagAArch64  = 0x0a00
)

// nativeLib reports whether a cache entry is a library of this machine's
// architecture.
func (e LibCacheEntry) nativeLib() bool {
	if e.Flags&ldFlagTypeMask != ldFlagELFLibc6 {
		return false
	}
	switch goruntime.GOARCH {
	case "amd64":
		return e.Flags&ldFlagArchMask == ldFlagX8664
	case "arm64":
		return e.Flags&ldFlagArchMask == ldFlagAArch64
	}
	return true
}
