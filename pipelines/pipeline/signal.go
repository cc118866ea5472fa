package pipeline

import (
	"context"
	"sync"
)

// Signal lets a started stage wait for part of an earlier started stage's
// work, to share its result instead of doing the same work at once: the
// tests wait for the build to compile the packages they share through the
// build cache, which two processes at once would each compile.
//
// The earlier stage arms the signal in its Start; a later Start that finds
// it unarmed (the earlier stage was skipped, or is not a Starter) does not
// wait. Start runs the Starters in the slice's order, so this is decided
// before either does any work. A nil *Signal is never armed.
type Signal struct {
	mu    sync.Mutex
	armed bool
	once  sync.Once
	done  chan struct{}
}

// NewSignal returns an unarmed signal.
func NewSignal() *Signal { return &Signal{done: make(chan struct{})} }

// Arm says that Done will be called.
func (s *Signal) Arm() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.armed = true
	s.mu.Unlock()
}

// Armed reports whether Arm was called.
func (s *Signal) Armed() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.armed
}

// Done releases the waiters; calls after the first do nothing.
func (s *Signal) Done() {
	if s == nil {
		return
	}
	s.once.Do(func() { close(s.done) })
}

// Wait blocks until Done, or ctx ends; after Done it returns nil.
func (s *Signal) Wait(ctx context.Context) error {
	if s == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
