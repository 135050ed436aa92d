#!/bin/bash
# Regenerates the expected outputs in this directory with bpftrace 0.17
# (run as root). For every NAME.bt:
#   bpftrace NAME.bt          > NAME.txt
#   bpftrace -f json NAME.bt  > NAME.json
# printf_cases.txt (FORMAT<TAB>ARGS per line, bpftrace syntax) becomes
# printf.bt, one printf per case followed by printf("@@END@@\n");
# its outputs are printf.txt and printf.json.
#
# stacks.bt and perfstack.bt sample real kernel stacks, so their outputs
# differ on every run; they are not regenerated here. stacks.txt and
# stacks.json come from two runs of `bpftrace stacks.bt` and
# `bpftrace -f json stacks.bt`, perfstack.* likewise; the tests rebuild
# exactly the entries those runs printed.
set -e
cd "$(dirname "$0")"
{
  echo 'BEGIN {'
  while IFS=$'\t' read -r fmt args; do
    if [ -n "$args" ]; then
      echo "  printf($fmt, $args); printf(\"@@END@@\\n\");"
    else
      echo "  printf($fmt); printf(\"@@END@@\\n\");"
    fi
  done < printf_cases.txt
  echo '  exit();'
  echo '}'
} > printf.bt
for f in *.bt; do
  n=${f%.bt}
  case $n in stacks|perfstack) continue ;; esac
  bpftrace "$f" > "$n.txt" 2>/dev/null
  bpftrace -f json "$f" > "$n.json" 2>/dev/null
done
