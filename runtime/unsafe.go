package runtime

import (
	"os"
	"os/exec"
)

// catFile returns a file's contents for cat(), or bpftrace's message when
// it cannot be read.
func catFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "ERROR: failed to open file '" + path + "': " + err.Error() + "\n"
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
