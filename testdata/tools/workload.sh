#!/bin/sh
# The workload bpftrace's tools are run with (testdata/tools/README): a few
# seconds of what the tools trace. Usage: workload.sh SECONDS
# Files: opens, stats, reads, directory lookups; block I/O with O_DIRECT and
# sync; processes and threads (exec, clone, exit); kill; setuid; nanosleep;
# name lookups; TCP connect/accept/close on the loopback.
end=$(( $(date +%s) + ${1:-3} ))
dir=${TMPDIR:-/tmp}/gotrace-workload.$$
mkdir -p "$dir"
/usr/bin/python3 - "$end" <<'PY' &
import socket, sys, time, threading
end = int(sys.argv[1])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(64)
port = srv.getsockname()[1]
def accept():
    while True:
        try:
            c, _ = srv.accept(); c.sendall(b"x" * 100); c.close()
        except OSError:
            return
threading.Thread(target=accept, daemon=True).start()
n = 0
while time.time() < end or n < 5:  # at least 5, however slow the start
    n += 1
    s = socket.create_connection(("127.0.0.1", port)); s.recv(100); s.close()
    threading.Thread(target=lambda: None).start()
    time.sleep(0.05)
srv.close()
PY
py=$!
i=0
while [ $i -lt 2 ] || [ "$(date +%s)" -lt "$end" ]; do # at least twice
	i=$((i + 1))
	cat /etc/passwd /etc/hostname >/dev/null
	ls -l /usr/lib /usr/bin >/dev/null 2>&1
	stat /etc/hosts >/dev/null
	dd if=/dev/zero of="$dir/f" bs=4k count=16 oflag=direct 2>/dev/null
	dd if="$dir/f" of=/dev/null bs=4k iflag=direct 2>/dev/null
	sync
	kill -0 $$
	setpriv --reuid=65534 --regid=65534 --clear-groups /bin/true 2>/dev/null
	sleep 0.1
	getent hosts localhost >/dev/null
done
wait $py
rm -rf "$dir"
