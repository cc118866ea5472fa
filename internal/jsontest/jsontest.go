// Package jsontest compares JSON documents in tests. Tests only.
package jsontest

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Equal reports whether a and b are the same JSON document, whatever their
// key order and spacing; either not being JSON fails the test.
func Equal(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
