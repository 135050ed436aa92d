package runtime

import (
	"errors"
	"os"
	"os/exec"
	"strings"
)

// catFile returns a file's contents for cat(), or bpftrace's message when
// it cannot be read.
func catFile(path string) string {
	data, err := os.ReadFile(path)
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
