package runtime

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime/output"
)

// decoder turns the bytes BPF programs produce into printable values. Some
// values need user space to finish them: stack ids are looked up in the
// stack map and symbolized, addresses become symbols, uids become names.
type decoder struct {
	prog   *codegen.Program
	stacks *ebpf.Map // nil when the script uses no stacks

	ksymsOnce sync.Once
	ksyms     *kernel.KernelSymbols
	usyms     kernel.UserSymbolizer
	users     sync.Map // uid → name
	// noUserSymbols prints user addresses as numbers.
	noUserSymbols bool
}

func newDecoder(l *Loaded) *decoder {
	return &decoder{prog: l.Prog, stacks: l.Coll.Maps[codegen.StackMap], noUserSymbols: l.NoUserSymbols}
}

// kernelSymbols reads /proc/kallsyms once per run, after the programs are
// loaded: the kernel lists BPF programs there too, and a table cached
// earlier (kaddr() at compile time) would not know ours.
func (d *decoder) kernelSymbols() *kernel.KernelSymbols {
	d.ksymsOnce.Do(func() {
		f, err := os.Open("/proc/kallsyms")
		if err != nil {
			return
		}
		defer f.Close()
		d.ksyms, _ = kernel.ParseKallsyms(f)
	})
	return d.ksyms
}

// decode turns the bytes of a value of type t into an output value.
func (d *decoder) decode(t *lang.Type, b []byte) output.Value {
	if len(b) < t.StorageSize() {
		b = append(b, make([]byte, t.StorageSize()-len(b))...)
	}
	u64 := func(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
	switch t.Kind {
	case lang.KindInt:
		v := u64(0)
		if t.Ptr || t.Signed {
			// bpftrace 0.17 prints a pointer value as a signed number
			// (curtask: -131387253358592); only map keys are in hex.
			return output.Int(int64(v))
		}
		return output.Uint(v)
	case lang.KindString:
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return output.Str(string(b))
	case lang.KindTuple:
		return d.decodeTuple(t, b)
	case lang.KindStack:
		id := int32(binary.LittleEndian.Uint32(b))
		pid := int(binary.LittleEndian.Uint32(b[4:]))
		frames := d.frames(id, pid, t.User, t.Perf)
		if t.Limit > 0 && len(frames) > t.Limit {
			frames = frames[:t.Limit]
		}
		v := output.Stack(frames...)
		v.StackPerf = t.Perf
		return v
	case lang.KindKsym:
		return output.Sym(d.ksym(u64(0), false))
	case lang.KindUsym:
		return output.Sym(d.usym(int(u64(8)), u64(0), false))
	case lang.KindUsername:
		return output.Str(d.username(u64(0)))
	case lang.KindInet:
		family := u64(0)
		if family == 10 {
			return output.Str(netip.AddrFrom16([16]byte(b[8:24])).String())
		}
		return output.Str(netip.AddrFrom4([4]byte(b[8:12])).String())
	case lang.KindTimestamp:
		idx := int(u64(8))
		f := ""
		if idx < len(d.prog.TimeFormats) {
			f = d.prog.TimeFormats[idx]
		}
		return output.Raw(Strftime(f, monotonicToWall(u64(0))))
	case lang.KindBuf:
		n := int(u64(0))
		if n > len(b)-8 {
			n = len(b) - 8
		}
		return output.Buf(b[8 : 8+n])
	}
	return output.Int(0)
}

func (d *decoder) decodeTuple(t *lang.Type, b []byte) output.Value {
	elems := make([]output.Value, len(t.Elems))
	for i, et := range t.Elems {
		off := t.Offsets[i]
		end := off + et.StorageSize()
		if end > len(b) {
			elems[i] = output.Int(0)
			continue
		}
		elems[i] = d.decode(et, b[off:end])
	}
	return output.Tuple(elems...)
}

// frames reads a stack trace and symbolizes it, innermost frame first.
//
// In perf's format (kstack(perf)) a frame is the address in hex and the
// symbol, and a user frame names its file: "7f30547f4e30 malloc+4
// (/usr/lib/x86_64-linux-gnu/libc.so.6)", "4408f4 0x4408f4 ([unknown])".
func (d *decoder) frames(id int32, pid int, user, perf bool) []string {
	if id < 0 || d.stacks == nil {
		return nil
	}
	var ips [codegen.MaxStackDepth]uint64
	if err := d.stacks.Lookup(uint32(id), &ips); err != nil {
		return nil
	}
	var out []string
	for _, ip := range ips {
		if ip == 0 {
			break
		}
		switch {
		case perf && user:
			name, off, path, ok := d.usyms.Frame(pid, ip)
			ok = ok && !d.noUserSymbols
			out = append(out, perfUserFrame(ip, name, off, path, ok))
		case perf:
			out = append(out, fmt.Sprintf("%x %s", ip, d.ksym(ip, true)))
		case user:
			out = append(out, d.usym(pid, ip, true))
		default:
			out = append(out, d.ksym(ip, true))
		}
	}
	return out
}

// perfUserFrame is a user frame in perf's format.
func perfUserFrame(ip uint64, name string, off uint64, path string, ok bool) string {
	if !ok {
		return fmt.Sprintf("%x 0x%x ([unknown])", ip, ip)
	}
	return fmt.Sprintf("%x %s+%d (%s)", ip, name, off, path)
}

func (d *decoder) ksym(addr uint64, withOffset bool) string {
	if ks := d.kernelSymbols(); ks != nil {
		if name, off, ok := ks.Lookup(addr); ok {
			if withOffset {
				return name + "+" + strconv.FormatUint(off, 10)
			}
			return name
		}
	}
	return fmt.Sprintf("0x%x", addr)
}

func (d *decoder) usym(pid int, addr uint64, withOffset bool) string {
	if d.noUserSymbols {
		return fmt.Sprintf("0x%x", addr)
	}
	if name, off, ok := d.usyms.Lookup(pid, addr); ok {
		if withOffset {
			return name + "+" + strconv.FormatUint(off, 10)
		}
		return name
	}
	return fmt.Sprintf("0x%x", addr)
}

func (d *decoder) username(uid uint64) string {
	if v, ok := d.users.Load(uid); ok {
		return v.(string)
	}
	name := strconv.FormatUint(uid, 10)
	if n, ok := passwdName(uid); ok {
		name = n
	}
	d.users.Store(uid, name)
	return name
}

// passwdName reads a user's name from /etc/passwd. (os/user would do it
// through cgo and make the binary dynamically linked, slower to start.)
func passwdName(uid uint64) (string, bool) {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return "", false
	}
	want := strconv.FormatUint(uid, 10)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 4)
		if len(f) == 4 && f[2] == want {
			return f[0], true
		}
	}
	return "", false
}
