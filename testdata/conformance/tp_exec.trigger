/bin/echo conformance one two >/dev/null
