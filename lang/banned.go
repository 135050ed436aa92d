package lang

// bannedKretprobes are the kernel functions bpftrace refuses a kretprobe
// on: the return probe takes a lock in the kernel that these functions
// hold or wait for, so tracing them can lock up the machine.
var bannedKretprobes = map[string]bool{
	"_raw_spin_lock":              true,
	"_raw_spin_lock_irqsave":      true,
	"_raw_spin_unlock_irqrestore": true,
	"queued_spin_lock_slowpath":   true,
}

// bannedKretprobe is bpftrace's error for a kretprobe on such a function
// ("" when fn may be traced).
func bannedKretprobe(kind, fn string) string {
	if kind != "kretprobe" || !bannedKretprobes[fn] {
		return ""
	}
	return "error: kretprobe:" + fn + " can't be used as it might lock up your system."
}
