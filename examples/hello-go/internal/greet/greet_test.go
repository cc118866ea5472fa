package greet

import (
	"strings"
	"testing"
)

func TestMessage(t *testing.T) {
	cases := map[string]string{"": "Hello, world!", " Ada ": "Hello, Ada!", "Grüße": "Hello, Grüße!"}
	for in, want := range cases {
		got, err := Message(in)
		if err != nil || got != want {
			t.Errorf("Message(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestMessageRejectsLongNames(t *testing.T) {
	if _, err := Message(strings.Repeat("a", MaxName+1)); err == nil {
		t.Error("a name over the limit was accepted")
	}
}
