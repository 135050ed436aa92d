cat /tmp/gotrace-conformance-missing 2>/dev/null; true
