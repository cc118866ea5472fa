// Command langtag prints the canonical form of a BCP 47 language tag. It
// exists to carry golang.org/x/text v0.3.7, whose language.Parse has a
// known denial-of-service bug (CVE-2022-32149): paved's scan must find it.
package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	arg := "en-US"
	if len(os.Args) > 1 {
		arg = os.Args[1]
	}
	tag, err := language.Parse(arg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(tag)
}
