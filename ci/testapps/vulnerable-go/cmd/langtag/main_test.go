package main

import (
	"testing"

	"golang.org/x/text/language"
)

func TestParseCanonicalises(t *testing.T) {
	tag, err := language.Parse("EN-us")
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "en-US" {
		t.Errorf("got %s, want en-US", tag)
	}
}
