# matrix/results.awk: one line per top-level test of a `go test -v` output,
#   STATUS<TAB>TestName<TAB>reason
# STATUS is PASS, FAIL or SKIP; reason (FAIL and SKIP only) is the first
# message the test logged (testify's "Error:" line, with the next line when
# that one only announces it), prefixed by the first failing subtest. A test
# that started and never finished (a panic, the -test.timeout) is a FAIL
# whose reason is the panic line. Run with -v rc=EXIT of the binary: a
# non-zero exit without any FAIL gives a FAIL for "(package)".
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
function reason(t,    r) {
	r = err[t] != "" ? err[t] : msg[t]
	if (note[t] != "" && index(r, note[t]) == 0) r = r " (" note[t] ")"
	if (subt[t] != "") r = subt[t] ": " r
	if (length(r) > 220) r = substr(r, 1, 217) "..."
	return r
}
/^=== (RUN|CONT) / {
	name = $3
	top = name; sub(/\/.*/, "", top)
	cur = top
	if ($2 == "RUN" && name == top) { started[top] = 1; order[++n] = top }
	next
}
/^[ ]*--- (PASS|FAIL|SKIP): / {
	st = $2; sub(/:$/, "", st)
	name = $3
	top = name; sub(/\/.*/, "", top)
	if (name != top) {
		if (st == "FAIL" && subt[top] == "") { s = name; sub(/^[^\/]*\//, "", s); subt[top] = s }
		next
	}
	status[top] = st
	cur = ""
	next
}
/^panic: / && panicmsg == "" { panicmsg = trim($0); if (cur != "") after[cur] = 1 }
/^(PASS|FAIL|ok|FAIL\t)/ { next }
cur != "" {
	line = trim($0)
	if (line == "") next
	if (wanterr[cur]) { err[cur] = trim(err[cur] " " line); wanterr[cur] = 0; next }
	# A message ending in ":" introduces a listing: its first error line says why.
	if (wantmsg[cur] && line ~ /(^|: )(ERROR|error): |refused|rejected/ && line !~ /^\/\//) { msg[cur] = msg[cur] " " line; wantmsg[cur] = 0; next }
	if (line ~ /^Messages:/ && note[cur] == "") { m = line; sub(/^Messages:[ \t]*/, "", m); note[cur] = m; next }
	if (line ~ /^Error:/ && err[cur] == "") {
		e = line; sub(/^Error:[ \t]*/, "", e); err[cur] = e
		if (e ~ /:$/ || e == "") wanterr[cur] = 1
	} else if (msg[cur] == "" && line !~ /^(Error Trace|Test|Messages):/ && line !~ /^(=== |--- )/) {
		m = line
		if (m ~ /_test\.go:[0-9]+: *$/) next
		sub(/^[^ ]*_test\.go:[0-9]+: /, "", m)
		msg[cur] = m
		if (m ~ /:$/) wantmsg[cur] = 1
	}
}
END {
	fails = 0
	for (i = 1; i <= n; i++) {
		t = order[i]
		if (!(t in status)) {
			status[t] = "FAIL"
			err[t] = panicmsg != "" ? panicmsg : "did not finish (binary exited " rc ")"
			subt[t] = ""
		}
		if (status[t] == "FAIL") fails++
		printf "%s\t%s\t%s\n", status[t], t, status[t] == "PASS" ? "" : reason(t)
	}
	if (rc != 0 && fails == 0)
		printf "FAIL\t(package)\ttest binary exited %s%s\n", rc, panicmsg != "" ? ": " panicmsg : ""
}
