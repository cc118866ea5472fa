#!/bin/sh
# Prints a greeting for $1 (default: world).
echo "hello, ${1:-world}"
