#!/bin/sh
# Runs greet.sh's tests and writes a JUnit report to $1; exits non-zero when
# a test fails.
set -u
out=$1
pass=0 fail=0 cases=""
check() { # name, want, args...
  name=$1 want=$2; shift 2
  got=$(sh ./greet.sh "$@")
  if [ "$got" = "$want" ]; then
    pass=$((pass + 1)); cases="$cases<testcase classname=\"greet\" name=\"$name\"/>"
  else
    fail=$((fail + 1)); cases="$cases<testcase classname=\"greet\" name=\"$name\"><failure message=\"got $got, want $want\"/></testcase>"
    echo "FAIL $name: got '$got', want '$want'"
  fi
}
check default "hello, world"
check named "hello, paved" paved
printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="greet" tests="%d" failures="%d">%s</testsuite></testsuites>\n' $((pass + fail)) "$fail" "$cases" > "$out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
