package runtime

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// CatBytesMax is how much of a file cat() prints: BPFTRACE_CAT_BYTES_MAX,
// 10 KiB by default, as in bpftrace.
func CatBytesMax() uint64 {
	if n, err := strconv.ParseUint(os.Getenv("BPFTRACE_CAT_BYTES_MAX"), 10, 64); err == nil {
		return n
	}
	return 10 << 10
}

// catFile returns a file's contents for cat(), at most CatBytesMax bytes,
// or bpftrace's message when it cannot be read.
func catFile(path string) string {
	f, err := os.Open(path)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(f, int64(min(CatBytesMax(), 1<<62))))
		f.Close()
	}
	if err != nil {
		// bpftrace's words: the reason as strerror() says it.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		reason := err.Error()
		if reason != "" {
			reason = strings.ToUpper(reason[:1]) + reason[1:]
		}
		return "ERROR: failed to open file '" + path + "': " + reason + "\n"
	}
	return string(data)
}

// runCommand runs a system() command through the shell and returns what it
// printed. Only reachable with --unsafe: the checker refuses system()
// otherwise.
func runCommand(cmd string) string {
	out, _ := exec.Command("/bin/sh", "-c", cmd).CombinedOutput()
	return string(out)
}
