// Package greet builds the greeting the service answers with.
package greet

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxName bounds a name so the service never echoes unbounded input.
const MaxName = 64

// Message greets name; an empty name greets the world.
func Message(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "world"
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("name is not valid UTF-8")
	}
	if utf8.RuneCountInString(name) > MaxName {
		return "", fmt.Errorf("name is longer than %d characters", MaxName)
	}
	return "Hello, " + name + "!", nil
}
