package pipeline

import (
	"context"
	"errors"
	"testing"
)

func TestSignalArmDoneWait(t *testing.T) {
	var none *Signal
	none.Arm()
	none.Done()
	if none.Armed() {
		t.Error("a nil signal is armed")
	}
	if err := none.Wait(t.Context()); err != nil {
		t.Errorf("a nil signal's Wait: %v", err)
	}

	s := NewSignal()
	if s.Armed() {
		t.Error("a new signal is armed")
	}
	s.Arm()
	if !s.Armed() {
		t.Error("Arm did not arm")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait before Done with an ended context: %v", err)
	}
	s.Done()
	s.Done() // a second Done must not panic (close of a closed channel)
	if err := s.Wait(ctx); err != nil {
		t.Errorf("Wait after Done: %v", err)
	}
}
